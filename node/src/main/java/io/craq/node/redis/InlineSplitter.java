package io.craq.node.redis;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Splits an inline command into words: blanks separate them, {@code "..."} quotes a word with the
 * escapes {@code \n \r \t \" \\ \xHH}, {@code '...'} quotes a word literally (only {@code \'} is an
 * escape), as {@code redis-cli} and Redis read them.
 */
final class InlineSplitter {
  private InlineSplitter() {}

  static List<byte[]> split(byte[] line) throws RespProtocolException {
    List<byte[]> words = new ArrayList<>();
    int i = 0;
    int n = line.length;
    while (true) {
      while (i < n && isBlank(line[i])) {
        i++;
      }
      if (i == n) {
        return words;
      }
      ByteArrayOutputStream word = new ByteArrayOutputStream();
      if (line[i] == '"') {
        i++;
        while (true) {
          if (i == n) {
            throw new RespProtocolException("unbalanced quotes in request");
          }
          byte b = line[i];
          if (b == '\\'
              && i + 3 < n
              && line[i + 1] == 'x'
              && isHex(line[i + 2])
              && isHex(line[i + 3])) {
            word.write(Character.digit(line[i + 2], 16) * 16 + Character.digit(line[i + 3], 16));
            i += 4;
          } else if (b == '\\' && i + 1 < n) {
            byte e = line[i + 1];
            word.write(
                switch (e) {
                  case 'n' -> '\n';
                  case 'r' -> '\r';
                  case 't' -> '\t';
                  case 'b' -> '\b';
                  case 'a' -> 7;
                  default -> e;
                });
            i += 2;
          } else if (b == '"') {
            i++;
            if (i < n && !isBlank(line[i])) {
              throw new RespProtocolException("closing quote must be followed by a space");
            }
            break;
          } else {
            word.write(b);
            i++;
          }
        }
      } else if (line[i] == '\'') {
        i++;
        while (true) {
          if (i == n) {
            throw new RespProtocolException("unbalanced quotes in request");
          }
          byte b = line[i];
          if (b == '\\' && i + 1 < n && line[i + 1] == '\'') {
            word.write('\'');
            i += 2;
          } else if (b == '\'') {
            i++;
            if (i < n && !isBlank(line[i])) {
              throw new RespProtocolException("closing quote must be followed by a space");
            }
            break;
          } else {
            word.write(b);
            i++;
          }
        }
      } else {
        while (i < n && !isBlank(line[i])) {
          word.write(line[i]);
          i++;
        }
      }
      words.add(word.toByteArray());
    }
  }

  private static boolean isBlank(byte b) {
    return b == ' ' || b == '\t' || b == '\r' || b == '\n';
  }

  private static boolean isHex(byte b) {
    return Character.digit(b, 16) >= 0;
  }
}
