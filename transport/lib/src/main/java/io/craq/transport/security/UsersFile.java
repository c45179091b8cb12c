package io.craq.transport.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The users of a server, from a text file: one user a line, {@code NAME ROLE HASH} separated by
 * spaces, where ROLE is read, readwrite, admin or member and HASH a salted slow hash of the user's
 * password or token ({@link PasswordHashes}); blank lines and lines starting with {@code #} are
 * ignored. {@code craq user add|remove|list} edits it.
 *
 * <pre>
 * # craq users file: NAME ROLE HASH
 * alice readwrite pbkdf2-sha256:210000:Jx3...==:q9Z...=
 * node-1 member pbkdf2-sha256:210000:8fA...==:Lm0...=
 * </pre>
 *
 * <p>The file must be readable by its owner only ({@link SecretFiles#requirePrivate}). It is read
 * again when it changes (its modification time, size or inode; looked at on every authentication
 * and at most once a second by {@link #currentRole}), so a user added can connect at once, and a
 * user removed is refused on new connections and, through {@link Authorization}, from the next
 * request of connections already open; a changed role applies from the next request as well. A file
 * that became malformed or unreadable is not taken: the users read last stay, and an error is
 * logged.
 *
 * <p>A verified secret is remembered (as an HMAC under a key random to this process, never the
 * secret itself) until the file changes, so a client that reconnects does not pay the slow hash
 * again. Thread-safe.
 */
public final class UsersFile implements Authenticator {
  private static final Logger log = LoggerFactory.getLogger(UsersFile.class);

  /** How often {@link #currentRole} looks at the file at most. */
  public static final long RECHECK_NANOS = 1_000_000_000L;

  /** What a user name may hold: no spaces, no '#', at most 128 characters. */
  public static final Pattern NAME = Pattern.compile("[A-Za-z0-9._@:+=-]{1,128}");

  /** The first line of a file {@code craq user} writes. */
  public static final String HEADER =
      "# craq users file: NAME ROLE HASH, one user a line (edit with craq user add|remove)";

  /** One user: its name, role and password hash; the hash never appears in {@link #toString}. */
  public record User(String name, Role role, PasswordHashes.Stored hash) {
    public User {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(hash, "hash");
      if (!NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(invalidName(name));
      }
    }

    /** The line of a users file. */
    public String line() {
      return name + " " + role.label() + " " + hash;
    }

    @Override
    public String toString() {
      return "User[" + name + " " + role.label() + "]";
    }
  }

  private record Snapshot(Map<String, User> users, Object fileKey, FileTime modified, long size) {}

  private final Path file;
  private final LongSupplier nanoClock;
  private final byte[] cacheKey = new byte[32];
  private final Map<String, byte[]> verified = new ConcurrentHashMap<>();
  private volatile Snapshot snapshot;
  private volatile long nextCheckNanos;

  private UsersFile(Path file, LongSupplier nanoClock) {
    this.file = file;
    this.nanoClock = nanoClock;
    new SecureRandom().nextBytes(cacheKey);
  }

  /**
   * Reads {@code file}.
   *
   * @throws IllegalArgumentException if the file is missing, readable by others (naming the fix),
   *     or malformed (naming the file and line)
   */
  public static UsersFile open(Path file) {
    return open(file, System::nanoTime);
  }

  /** {@link #open(Path)} with a clock for the once-a-second check (tests). */
  public static UsersFile open(Path file, LongSupplier nanoClock) {
    UsersFile users = new UsersFile(file, nanoClock);
    users.snapshot = read(file);
    users.nextCheckNanos = nanoClock.getAsLong() + RECHECK_NANOS;
    return users;
  }

  /** The file this reads. */
  public Path file() {
    return file;
  }

  /** The users as last read, in the file's order. */
  public List<User> users() {
    return List.copyOf(snapshot.users().values());
  }

  @Override
  public Principal authenticate(String user, byte[] secret) throws AuthenticationException {
    refresh();
    User known = snapshot.users().get(user);
    if (known == null) {
      // The same work as for a known user (a hash of the file's first user's cost), so timing
      // does not tell unknown users from wrong secrets.
      snapshot.users().values().stream()
          .findFirst()
          .ifPresent(any -> PasswordHashes.matches(secret, any.hash()));
      throw refused(user);
    }
    byte[] mac = mac(user, known.hash(), secret);
    byte[] remembered = verified.get(user);
    if (remembered != null && MessageDigest.isEqual(remembered, mac)) {
      return new Principal(user, known.role());
    }
    if (!PasswordHashes.matches(secret, known.hash())) {
      throw refused(user);
    }
    verified.put(user, mac);
    return new Principal(user, known.role());
  }

  @Override
  public Principal remembered(String user, byte[] secret) {
    refresh();
    User known = snapshot.users().get(user);
    byte[] remembered = known == null ? null : verified.get(user);
    if (remembered == null || !MessageDigest.isEqual(remembered, mac(user, known.hash(), secret))) {
      return null;
    }
    return new Principal(user, known.role());
  }

  @Override
  public Principal forCertificate(String commonName) throws AuthenticationException {
    refresh();
    User known = snapshot.users().get(commonName);
    if (known == null) {
      throw new AuthenticationException(
          "certificate of '" + commonName + "' refused: no such user in the users file");
    }
    return new Principal(commonName, known.role());
  }

  /**
   * The role {@code name} has now, or null if it is no longer a user: the revocation check of
   * connections already open. Looks at the file at most once a second.
   */
  public Role currentRole(String name) {
    if (nanoClock.getAsLong() - nextCheckNanos >= 0) {
      refresh();
    }
    User known = snapshot.users().get(name);
    return known == null ? null : known.role();
  }

  /** True if {@code name} is a user (as last read). */
  public boolean contains(String name) {
    return snapshot.users().containsKey(name);
  }

  /**
   * Reads the file again if it changed since it was read last. A file that is now malformed,
   * missing or readable by others is not taken: the previous users stay, and an error is logged.
   */
  public void refresh() {
    nextCheckNanos = nanoClock.getAsLong() + RECHECK_NANOS;
    Snapshot current = snapshot;
    BasicFileAttributes attributes;
    try {
      attributes = Files.readAttributes(file, BasicFileAttributes.class);
    } catch (IOException e) {
      logKeep("cannot be read (" + e.getMessage() + ")");
      return;
    }
    if (Objects.equals(attributes.fileKey(), current.fileKey())
        && attributes.lastModifiedTime().equals(current.modified())
        && attributes.size() == current.size()) {
      return;
    }
    synchronized (this) {
      if (snapshot != current) {
        return; // another thread read it meanwhile
      }
      try {
        Snapshot next = read(file);
        snapshot = next;
        verified.clear();
        log.info("users file {} read again: {} users", file, next.users().size());
      } catch (IllegalArgumentException e) {
        // Remember what was looked at, so the same broken file is reported once.
        snapshot =
            new Snapshot(
                current.users(),
                attributes.fileKey(),
                attributes.lastModifiedTime(),
                attributes.size());
        logKeep("was not taken: " + e.getMessage());
      }
    }
  }

  private void logKeep(String why) {
    log.error(
        "users file {} {}; the {} users read before stay in force", file, why, users().size());
  }

  private static AuthenticationException refused(String user) {
    return new AuthenticationException("user '" + user + "': unknown user or wrong password");
  }

  private byte[] mac(String user, PasswordHashes.Stored hash, byte[] secret) {
    try {
      Mac hmac = Mac.getInstance("HmacSHA256");
      hmac.init(new SecretKeySpec(cacheKey, "HmacSHA256"));
      hmac.update(user.getBytes(StandardCharsets.UTF_8));
      hmac.update((byte) 0);
      hmac.update(hash.salt());
      hmac.update((byte) 0);
      return hmac.doFinal(secret);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK lacks HmacSHA256", e);
    }
  }

  // ------------------------------------------------------------------------------ reading

  private static Snapshot read(Path file) {
    SecretFiles.requirePrivate(file, "users file");
    try {
      BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
      List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
      return new Snapshot(
          parse(lines, file.toString()),
          attributes.fileKey(),
          attributes.lastModifiedTime(),
          attributes.size());
    } catch (IOException e) {
      throw new IllegalArgumentException("users file " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The users of {@code lines}, in their order.
   *
   * @param source the file's name, for messages
   * @throws IllegalArgumentException naming the source and line of the first malformed line
   */
  public static Map<String, User> parse(List<String> lines, String source) {
    Map<String, User> users = new LinkedHashMap<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String where = source + " line " + (i + 1) + ": ";
      String[] fields = line.split("\\s+");
      if (fields.length != 3) {
        throw new IllegalArgumentException(
            where
                + "expected NAME ROLE HASH separated by spaces, found "
                + fields.length
                + " field(s)");
      }
      User user;
      try {
        user = new User(fields[0], Role.parse(fields[1]), PasswordHashes.parse(fields[2]));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + e.getMessage(), e);
      }
      if (users.putIfAbsent(user.name(), user) != null) {
        throw new IllegalArgumentException(where + "user " + user.name() + " is listed twice");
      }
    }
    return Collections.unmodifiableMap(users);
  }

  static String invalidName(String name) {
    return "invalid user name '"
        + name
        + "': 1 to 128 letters, digits and . _ @ : + = - (no spaces)";
  }

  // ------------------------------------------------------------------------------ writing

  /**
   * Replaces {@code file} with {@code users}, atomically (a new file readable by its owner only,
   * renamed over the old one): servers reading it see the old users or the new ones.
   */
  public static void write(Path file, Collection<User> users) throws IOException {
    List<String> lines = new ArrayList<>();
    lines.add(HEADER);
    for (User user : users) {
      lines.add(user.line());
    }
    Path directory = file.toAbsolutePath().getParent();
    Path temporary = Files.createTempFile(directory, "." + file.getFileName() + ".", ".tmp");
    try {
      PosixFileAttributeView view =
          Files.getFileAttributeView(temporary, PosixFileAttributeView.class);
      if (view != null) {
        view.setPermissions(PosixFilePermissions.fromString("rw-------"));
      }
      Files.write(temporary, lines, StandardCharsets.UTF_8);
      try {
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
  }

  /**
   * The users of {@code file} for editing: none if it does not exist yet.
   *
   * @throws IllegalArgumentException as {@link #open}
   */
  public static Map<String, User> readForEdit(Path file) {
    if (!Files.exists(file)) {
      return new LinkedHashMap<>();
    }
    return new LinkedHashMap<>(read(file).users());
  }
}
