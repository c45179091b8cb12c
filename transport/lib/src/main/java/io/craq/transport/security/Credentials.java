package io.craq.transport.security;

import java.util.Arrays;
import java.util.Objects;

/**
 * A user name and its password or token, which a dialing transport presents on every connection it
 * opens. The secret never appears in {@link #toString()}.
 */
public record Credentials(String user, byte[] secret) {

  public Credentials {
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(secret, "secret");
    if (user.isEmpty()) {
      throw new IllegalArgumentException("the user name must not be empty");
    }
    secret = secret.clone();
  }

  @Override
  public byte[] secret() {
    return secret.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Credentials c && user.equals(c.user) && Arrays.equals(secret, c.secret);
  }

  @Override
  public int hashCode() {
    return user.hashCode();
  }

  @Override
  public String toString() {
    return "Credentials[" + user + " (secret hidden)]";
  }
}
