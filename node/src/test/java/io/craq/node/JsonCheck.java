package io.craq.node;

/**
 * A JSON syntax check (RFC 8259) for tests: {@link #check} throws {@link IllegalArgumentException}
 * naming the offset of the first error. It builds nothing; it only says whether the text parses.
 */
final class JsonCheck {
  private final String text;
  private int at;

  private JsonCheck(String text) {
    this.text = text;
  }

  static void check(String text) {
    JsonCheck parser = new JsonCheck(text);
    parser.value();
    parser.space();
    if (parser.at != text.length()) {
      throw parser.error("text after the value");
    }
  }

  private void value() {
    space();
    if (at >= text.length()) {
      throw error("a value expected");
    }
    char c = text.charAt(at);
    switch (c) {
      case '{' -> object();
      case '[' -> array();
      case '"' -> string();
      case 't' -> literal("true");
      case 'f' -> literal("false");
      case 'n' -> literal("null");
      default -> number();
    }
  }

  private void object() {
    at++;
    space();
    if (peek() == '}') {
      at++;
      return;
    }
    while (true) {
      space();
      if (peek() != '"') {
        throw error("a member name expected");
      }
      string();
      space();
      expect(':');
      value();
      space();
      if (peek() == ',') {
        at++;
      } else {
        expect('}');
        return;
      }
    }
  }

  private void array() {
    at++;
    space();
    if (peek() == ']') {
      at++;
      return;
    }
    while (true) {
      value();
      space();
      if (peek() == ',') {
        at++;
      } else {
        expect(']');
        return;
      }
    }
  }

  private void string() {
    at++;
    while (at < text.length()) {
      char c = text.charAt(at++);
      if (c == '"') {
        return;
      }
      if (c < 0x20) {
        throw error("a control character in a string");
      }
      if (c == '\\') {
        char e = at < text.length() ? text.charAt(at++) : 0;
        if (e == 'u') {
          for (int i = 0; i < 4; i++) {
            if (at >= text.length() || Character.digit(text.charAt(at++), 16) < 0) {
              throw error("a bad \\u escape");
            }
          }
        } else if ("\"\\/bfnrt".indexOf(e) < 0) {
          throw error("a bad escape");
        }
      }
    }
    throw error("an unterminated string");
  }

  private void number() {
    int start = at;
    if (peek() == '-') {
      at++;
    }
    if (peek() == '0') {
      at++;
    } else if (isDigit(peek())) {
      digits();
    } else {
      throw error("a value expected");
    }
    if (peek() == '.') {
      at++;
      if (!isDigit(peek())) {
        throw error("digits after the point expected");
      }
      digits();
    }
    if (peek() == 'e' || peek() == 'E') {
      at++;
      if (peek() == '+' || peek() == '-') {
        at++;
      }
      if (!isDigit(peek())) {
        throw error("exponent digits expected");
      }
      digits();
    }
    if (at == start) {
      throw error("a number expected");
    }
  }

  private void digits() {
    while (isDigit(peek())) {
      at++;
    }
  }

  private static boolean isDigit(char c) {
    return c >= '0' && c <= '9';
  }

  private void literal(String word) {
    if (!text.startsWith(word, at)) {
      throw error(word + " expected");
    }
    at += word.length();
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("'" + c + "' expected");
    }
    at++;
  }

  private char peek() {
    return at < text.length() ? text.charAt(at) : 0;
  }

  private void space() {
    while (at < text.length() && " \t\r\n".indexOf(text.charAt(at)) >= 0) {
      at++;
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("not JSON at offset " + at + ": " + what);
  }
}
