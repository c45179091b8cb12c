package io.craq.transport.security;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * Salted slow hashes of passwords and tokens, as a users file stores them: {@code
 * pbkdf2-sha256:ITERATIONS:SALT:HASH}, salt and hash in Base64 (PBKDF2 with HMAC-SHA256 from the
 * JDK, a random 16-byte salt per user, a 32-byte hash). Verification takes the same time whatever
 * the secret (a constant-time comparison).
 */
public final class PasswordHashes {
  /** The scheme's name, the first field of a stored hash. */
  public static final String SCHEME = "pbkdf2-sha256";

  /**
   * Iterations of new hashes: about 0.1 to 0.3 s of one core, paid once per connection (the server
   * remembers a verified secret, see {@link UsersFile}).
   */
  public static final int ITERATIONS_DEFAULT = 210_000;

  /** Fewer iterations than this are refused when a file is read: such a hash is too cheap. */
  public static final int ITERATIONS_MIN = 1_000;

  /** More than this would let one connection attempt cost minutes of CPU. */
  public static final int ITERATIONS_MAX = 10_000_000;

  private static final int SALT_BYTES = 16;
  private static final int HASH_BYTES = 32;
  private static final SecureRandom RANDOM = new SecureRandom();

  private PasswordHashes() {}

  /** A parsed stored hash. */
  public record Stored(int iterations, byte[] salt, byte[] hash) {
    @Override
    public String toString() {
      return SCHEME
          + ":"
          + iterations
          + ":"
          + Base64.getEncoder().encodeToString(salt)
          + ":"
          + Base64.getEncoder().encodeToString(hash);
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Stored s
          && iterations == s.iterations
          && MessageDigest.isEqual(salt, s.salt)
          && MessageDigest.isEqual(hash, s.hash);
    }

    @Override
    public int hashCode() {
      return iterations;
    }
  }

  /** A new hash of {@code secret} with a fresh random salt and {@code iterations}. */
  public static Stored hash(byte[] secret, int iterations) {
    if (iterations < ITERATIONS_MIN || iterations > ITERATIONS_MAX) {
      throw new IllegalArgumentException(
          "iterations must be " + ITERATIONS_MIN + ".." + ITERATIONS_MAX + ": " + iterations);
    }
    byte[] salt = new byte[SALT_BYTES];
    RANDOM.nextBytes(salt);
    return new Stored(iterations, salt, derive(secret, salt, iterations));
  }

  /** True if {@code secret} is the one {@code stored} was made of; constant-time comparison. */
  public static boolean matches(byte[] secret, Stored stored) {
    byte[] derived = derive(secret, stored.salt(), stored.iterations());
    return MessageDigest.isEqual(derived, stored.hash());
  }

  /**
   * Parses {@code pbkdf2-sha256:ITERATIONS:SALT:HASH}.
   *
   * @throws IllegalArgumentException saying what is wrong (never echoing the text)
   */
  public static Stored parse(String text) {
    String[] parts = text.split(":", -1);
    if (parts.length != 4 || !parts[0].equals(SCHEME)) {
      throw new IllegalArgumentException(
          "the hash must be " + SCHEME + ":ITERATIONS:SALT:HASH (made by craq user add)");
    }
    int iterations;
    try {
      iterations = Integer.parseInt(parts[1]);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("the hash's iteration count is not a number", e);
    }
    if (iterations < ITERATIONS_MIN || iterations > ITERATIONS_MAX) {
      throw new IllegalArgumentException(
          "the hash's iteration count must be " + ITERATIONS_MIN + ".." + ITERATIONS_MAX);
    }
    byte[] salt;
    byte[] hash;
    try {
      salt = Base64.getDecoder().decode(parts[2]);
      hash = Base64.getDecoder().decode(parts[3]);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the hash's salt or value is not Base64", e);
    }
    if (salt.length < 8 || hash.length != HASH_BYTES) {
      throw new IllegalArgumentException(
          "the hash needs a salt of at least 8 bytes and a value of " + HASH_BYTES + " bytes");
    }
    return new Stored(iterations, salt, hash);
  }

  private static byte[] derive(byte[] secret, byte[] salt, int iterations) {
    // PBEKeySpec takes chars: the secret's bytes as ISO-8859-1 keep every byte as it is.
    char[] chars = new String(secret, StandardCharsets.ISO_8859_1).toCharArray();
    PBEKeySpec spec = new PBEKeySpec(chars, salt, iterations, HASH_BYTES * 8);
    try {
      return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks PBKDF2WithHmacSHA256", e);
    } finally {
      spec.clearPassword();
      java.util.Arrays.fill(chars, '\0');
    }
  }
}
