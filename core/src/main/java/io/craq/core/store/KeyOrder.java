package io.craq.core.store;

import java.util.Comparator;

/**
 * Orders keys as unsigned UTF-8 bytes, which is Unicode code point order: the order LMDB keeps keys
 * in, so every store scans in the same order. {@link String#compareTo} differs (it compares UTF-16
 * units, which puts U+10000.. before U+E000..U+FFFF). A store that scans keys, and anything that
 * merges its pages with keys held elsewhere, must use this order.
 */
public final class KeyOrder implements Comparator<String> {
  /** The one instance. */
  public static final KeyOrder INSTANCE = new KeyOrder();

  private KeyOrder() {}

  @Override
  public int compare(String a, String b) {
    int common = Math.min(a.length(), b.length());
    for (int i = 0; i < common; i++) {
      char ca = a.charAt(i);
      char cb = b.charAt(i);
      if (ca != cb) {
        // Outside surrogates, UTF-16 unit order is code point order. A surrogate stands for a
        // code point above U+FFFF, so it sorts after every other unit; two surrogates at the
        // same place compare as units (same high surrogate: the low ones decide).
        boolean sa = Character.isSurrogate(ca);
        boolean sb = Character.isSurrogate(cb);
        if (sa != sb) {
          return sa ? 1 : -1;
        }
        return Character.compare(ca, cb);
      }
    }
    return Integer.compare(a.length(), b.length());
  }
}
