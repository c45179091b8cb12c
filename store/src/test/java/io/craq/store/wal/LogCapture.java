package io.craq.store.wal;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import org.slf4j.LoggerFactory;

/**
 * Records what the log writes to its logger (info and above) while open, instead of printing it:
 * the tests that capture provoke warnings on purpose.
 */
final class LogCapture implements AutoCloseable {
  private final Logger logger = (Logger) LoggerFactory.getLogger(WriteAheadLog.class);
  private final Level levelBefore = logger.getLevel();
  private final boolean additiveBefore = logger.isAdditive();
  private final ListAppender<ILoggingEvent> appender = new ListAppender<>();

  LogCapture() {
    appender.start();
    logger.addAppender(appender);
    logger.setLevel(Level.INFO);
    logger.setAdditive(false);
  }

  /** Messages logged at {@code level} since the capture started or was last cleared. */
  synchronized List<String> at(Level level) {
    return appender.list.stream()
        .filter(event -> event.getLevel() == level)
        .map(ILoggingEvent::getFormattedMessage)
        .toList();
  }

  List<String> warnings() {
    return at(Level.WARN);
  }

  synchronized void clear() {
    appender.list.clear();
  }

  @Override
  public void close() {
    logger.detachAppender(appender);
    logger.setLevel(levelBefore);
    logger.setAdditive(additiveBefore);
  }
}
