package io.craq.transport;

import io.craq.core.message.Message;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Writes the hand-made seed inputs of {@link MessageCodecFuzzTest}: one valid frame of every
 * message type, {@code seed-<Type>}, from {@link Samples} with a fixed seed per tag. Existing files
 * are kept, so a new message type only adds its own seed. Run after adding a type (the test {@code
 * MessageCodecTest.fuzzSeedOfEveryType} fails until then):
 *
 * <pre>
 * java -cp transport/lib/target/test-classes:transport/lib/target/classes:core/target/classes \
 *   io.craq.transport.FuzzSeeds transport/lib/src/test/resources/io/craq/transport/MessageCodecFuzzTestInputs/decodeFrame
 * </pre>
 */
public final class FuzzSeeds {
  private FuzzSeeds() {}

  /** The file name of the seed of {@code tag}. */
  static String fileName(int tag) {
    return "seed-" + Samples.random(new Random(tag), tag).getClass().getSimpleName();
  }

  /** The seed frame of {@code tag}: replies as replies, peer messages one-way, others requests. */
  static byte[] frame(int tag) {
    Message message = Samples.random(new Random(tag), tag);
    MessageCodec codec = new MessageCodec(TransportConfig.DEFAULT);
    if (message instanceof Message.Reply) {
      return codec.encodeFrame(Frames.KIND_REPLY, tag, message);
    }
    if (message instanceof Message.NodeMessage || message instanceof Message.Chained) {
      return codec.encodeFrame(Frames.KIND_ONE_WAY, 0, message);
    }
    return codec.encodeFrame(Frames.KIND_REQUEST, tag, message);
  }

  public static void main(String[] args) throws IOException {
    if (args.length != 1) {
      System.err.println("usage: FuzzSeeds DIRECTORY");
      System.exit(2);
    }
    Path directory = Path.of(args[0]);
    for (int tag : Samples.tags()) {
      Path file = directory.resolve(fileName(tag));
      if (!Files.exists(file)) {
        Files.write(file, frame(tag));
        System.out.println("wrote " + file);
      }
    }
  }
}
