package io.craq.node;

import static org.junit.jupiter.api.Assertions.assertEquals;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Which coordinator a node asks: redirects, "no leader now", unreachable ones, suspects. */
class CoordinatorRouteTest {
  private static final long SUSPECT_NANOS = TimeUnit.SECONDS.toNanos(2);

  private final AtomicLong now = new AtomicLong();

  private CoordinatorRoute route(String... listed) {
    return new CoordinatorRoute(List.of(listed), SUSPECT_NANOS, now::get);
  }

  @Test
  @DisplayName("the first listed coordinator is asked first")
  void startsAtFirst() {
    assertEquals("a:1", route("a:1", "b:1").current());
  }

  @Test
  @DisplayName("a redirect's hint becomes current at once, even an address not listed")
  void followsHint() {
    CoordinatorRoute route = route("a:1", "b:1");
    assertEquals("c:1", route.redirected("a:1", "c:1"));
    assertEquals("c:1", route.current());
  }

  @Test
  @DisplayName("an empty or malformed hint moves to the next listed coordinator, round the list")
  void emptyHintMovesOn() {
    CoordinatorRoute route = route("a:1", "b:1", "c:1");
    assertEquals("b:1", route.redirected("a:1", ""));
    assertEquals("c:1", route.redirected("b:1", "no-port"));
    assertEquals("a:1", route.redirected("c:1", ""));
  }

  @Test
  @DisplayName("an answer from a coordinator that is no longer current does not move the route")
  void lateAnswersDoNotMove() {
    CoordinatorRoute route = route("a:1", "b:1", "c:1");
    route.failed("a:1", "cannot be reached");
    assertEquals("b:1", route.current());
    assertEquals("b:1", route.failed("a:1", "did not answer"));
    assertEquals("b:1", route.redirected("a:1", ""));
  }

  @Test
  @DisplayName("with one address nothing changes unless a standby names another leader")
  void singleAddress() {
    CoordinatorRoute route = route("a:1");
    assertEquals("a:1", route.failed("a:1", "cannot be reached"));
    assertEquals("a:1", route.redirected("a:1", ""));
    assertEquals("x:1", route.redirected("a:1", "x:1"));
    now.addAndGet(SUSPECT_NANOS);
    assertEquals("a:1", route.failed("x:1", "cannot be reached"), "back to the list");
  }

  @Test
  @DisplayName(
      "a coordinator that could not be reached is suspect: a redirect to it is followed for "
          + "that request only, and it is not chosen as next; after the suspect time, or once it "
          + "answers, it is followed again")
  void suspects() {
    CoordinatorRoute route = route("a:1", "b:1", "c:1");
    assertEquals("b:1", route.failed("a:1", "cannot be reached"));
    // b has not yet noticed that a died and still names it: try a, but stay at b.
    assertEquals("a:1", route.redirected("b:1", "a:1"));
    assertEquals("b:1", route.current());
    // c next, then round the list past a.
    assertEquals("c:1", route.redirected("b:1", ""));
    assertEquals("b:1", route.redirected("c:1", ""));
    now.addAndGet(SUSPECT_NANOS);
    assertEquals("a:1", route.redirected("b:1", "a:1"));
    assertEquals("a:1", route.current());

    assertEquals("b:1", route.failed("a:1", "did not answer"));
    route.answered("a:1");
    assertEquals("a:1", route.redirected("b:1", "a:1"));
    assertEquals("a:1", route.current());
  }

  @Test
  @DisplayName("a change of coordinator is logged once, at INFO, with who redirected")
  void switchesAreLoggedOnce() {
    Logger logger = (Logger) LoggerFactory.getLogger(CoordinatorRoute.class);
    ListAppender<ILoggingEvent> logged = new ListAppender<>();
    logged.start();
    Level level = logger.getLevel();
    logger.setLevel(Level.INFO);
    logger.addAppender(logged);
    try {
      CoordinatorRoute route = route("a:1", "b:1");
      route.redirected("a:1", "b:1");
      route.redirected("a:1", "b:1"); // a late second answer: no change
      route.redirected("b:1", "b:1"); // a hint naming the refuser itself counts as none
    } finally {
      logger.detachAppender(logged);
      logger.setLevel(level);
    }
    assertEquals(
        List.of(
            "coordinator is now b:1 (redirected by a:1)",
            "coordinator is now a:1 (b:1 says no coordinator leads now)"),
        logged.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    assertEquals(Level.INFO, logged.list.get(0).getLevel());
  }
}
