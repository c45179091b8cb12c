package io.craq.cli.commands;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * A tiny JSON object writer for the CLI's {@code --json} output: one flat object per call, fields
 * in the order added. Hand-written so the client needs no JSON library.
 */
final class Json {
  private final StringBuilder out = new StringBuilder("{");
  private boolean first = true;

  Json field(String name, String value) {
    name(name);
    if (value == null) {
      out.append("null");
    } else {
      quote(value);
    }
    return this;
  }

  Json field(String name, long value) {
    name(name);
    out.append(value);
    return this;
  }

  Json field(String name, boolean value) {
    name(name);
    out.append(value);
    return this;
  }

  /** Adds an array of strings. */
  Json strings(String name, java.util.List<String> values) {
    name(name);
    out.append('[');
    for (int i = 0; i < values.size(); i++) {
      out.append(i == 0 ? "" : ",");
      quote(values.get(i));
    }
    out.append(']');
    return this;
  }

  /** Adds an array of numbers. */
  Json numbers(String name, java.util.List<? extends Number> values) {
    name(name);
    out.append('[');
    for (int i = 0; i < values.size(); i++) {
      out.append(i == 0 ? "" : ",").append(values.get(i));
    }
    out.append(']');
    return this;
  }

  /** Adds a pre-rendered JSON value (an array or object). */
  Json raw(String name, String json) {
    name(name);
    out.append(json);
    return this;
  }

  /**
   * A value as two fields: {@code value} (the UTF-8 text, or null when the bytes are not valid
   * UTF-8) and {@code valueBase64} (always, the exact bytes).
   */
  Json value(byte[] value) {
    field("value", utf8OrNull(value));
    field("valueBase64", Base64.getEncoder().encodeToString(value));
    return this;
  }

  @Override
  public String toString() {
    return out + "}";
  }

  private void name(String name) {
    if (!first) {
      out.append(',');
    }
    first = false;
    quote(name);
    out.append(':');
  }

  private void quote(String s) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\n' -> out.append("\\n");
        case '\r' -> out.append("\\r");
        case '\t' -> out.append("\\t");
        case '\b' -> out.append("\\b");
        case '\f' -> out.append("\\f");
        default -> {
          if (c < 0x20 || c == 0x2028 || c == 0x2029) {
            out.append(String.format("\\u%04x", (int) c));
          } else {
            out.append(c);
          }
        }
      }
    }
    out.append('"');
  }

  static String utf8OrNull(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }
}
