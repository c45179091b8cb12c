package io.craq.node.redis;

/**
 * Redis's glob patterns, as {@code SCAN MATCH} and {@code CONFIG GET} take them: {@code *} any
 * characters, {@code ?} one, {@code [abc]}, {@code [^abc]}, {@code [a-z]} a set, {@code \x} the
 * character x. Matching takes at most pattern length times text length steps (backtracking only to
 * the last star), so no pattern can make it slow.
 */
final class Glob {
  private Glob() {}

  static boolean matches(String p, String s) {
    int pi = 0;
    int si = 0;
    int starP = -1;
    int starS = 0;
    while (si < s.length()) {
      if (pi < p.length() && p.charAt(pi) == '*') {
        starP = pi++;
        starS = si;
        continue;
      }
      int next = pi < p.length() ? matchOne(p, pi, s.charAt(si)) : -1;
      if (next >= 0) {
        pi = next;
        si++;
      } else if (starP >= 0) {
        pi = starP + 1;
        si = ++starS;
      } else {
        return false;
      }
    }
    while (pi < p.length() && p.charAt(pi) == '*') {
      pi++;
    }
    return pi == p.length();
  }

  /** If the token at {@code pi} matches {@code t}, the index after the token; else -1. */
  private static int matchOne(String p, int pi, char t) {
    char c = p.charAt(pi);
    if (c == '?') {
      return pi + 1;
    }
    if (c == '\\' && pi + 1 < p.length()) {
      return p.charAt(pi + 1) == t ? pi + 2 : -1;
    }
    if (c != '[') {
      return c == t ? pi + 1 : -1;
    }
    int end = pi + 1;
    boolean negate = end < p.length() && p.charAt(end) == '^';
    if (negate) {
      end++;
    }
    boolean found = false;
    while (end < p.length() && p.charAt(end) != ']') {
      char a = p.charAt(end);
      if (a == '\\' && end + 1 < p.length()) {
        found |= p.charAt(end + 1) == t;
        end += 2;
      } else if (end + 2 < p.length() && p.charAt(end + 1) == '-' && p.charAt(end + 2) != ']') {
        char lo = (char) Math.min(a, p.charAt(end + 2));
        char hi = (char) Math.max(a, p.charAt(end + 2));
        found |= t >= lo && t <= hi;
        end += 3;
      } else {
        found |= a == t;
        end++;
      }
    }
    return found != negate ? Math.min(end + 1, p.length()) : -1;
  }
}
