package io.craq.node;

import io.craq.transport.Addresses;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which coordinator a node talks to, among those it was given: the current one, changed when a
 * standby names the leader (its address is authoritative, listed or not), when a standby says no
 * coordinator leads (the next listed one), or when the current one cannot be reached (the next
 * listed one). Every change is logged once at INFO.
 *
 * <p>A coordinator that could not be reached or did not answer is <em>suspect</em> for a while
 * ({@code suspectNanos}, or until it answers): a standby that has not yet noticed that the leader
 * died still names it, and switching back and forth on that stale hint would flood the log (and,
 * for a paused leader, hold every request for a timeout). A suspect is not chosen as the next
 * listed coordinator while another one is not, and a redirect to it is followed for that request
 * only.
 *
 * <p>Thread-safe: answers arrive on transport threads.
 */
final class CoordinatorRoute {
  private static final Logger log = LoggerFactory.getLogger(CoordinatorRoute.class);

  private final List<String> listed;
  private final long suspectNanos;
  private final LongSupplier nanoClock;

  /** When each suspect failed, by address. */
  private final Map<String, Long> failedAt = new HashMap<>();

  private String current;

  /** Index in {@link #listed} of the last listed address used; "next" counts from there. */
  private int listIndex;

  CoordinatorRoute(List<String> listed, long suspectNanos, LongSupplier nanoClock) {
    if (listed.isEmpty()) {
      throw new IllegalArgumentException("no coordinator address");
    }
    this.listed = List.copyOf(listed);
    this.suspectNanos = suspectNanos;
    this.nanoClock = nanoClock;
    this.current = this.listed.get(0);
  }

  /** The coordinator to send to now. */
  synchronized String current() {
    return current;
  }

  /** How many coordinators were given. */
  int listedCount() {
    return listed.size();
  }

  /** {@code from} answered (anything): it is no longer suspect. */
  synchronized void answered(String from) {
    failedAt.remove(from);
  }

  /**
   * {@code from} answered NOT_LEADER with {@code hint}: the leader's address, or empty when none
   * leads now. Returns where to send the refused request now (maybe unchanged, if another answer
   * moved on already):
   *
   * <ul>
   *   <li>a usable hint other than {@code from} becomes current and is returned;
   *   <li>a hint naming a suspect is returned, but the route stays where it is: the standby may not
   *       have noticed yet that the leader died (it is asked each time, at the cost of one more
   *       request, and becomes current once it answers);
   *   <li>an empty or malformed hint moves the route to the next listed coordinator, if {@code
   *       from} is still current.
   * </ul>
   */
  synchronized String redirected(String from, String hint) {
    failedAt.remove(from);
    if (usable(hint) && !hint.equals(from)) {
      if (suspect(hint)) {
        return hint;
      }
      switchTo(hint, "redirected by " + from);
    } else if (from.equals(current)) {
      switchTo(nextListed(), from + " says no coordinator leads now");
    }
    return current;
  }

  /**
   * {@code from} could not be reached or did not answer in time ({@code why}): it becomes suspect
   * and, if it is still current, the next listed address becomes current (an address learnt from a
   * redirect is left even when only one is listed). Returns the coordinator to ask now.
   */
  synchronized String failed(String from, String why) {
    failedAt.put(from, nanoClock.getAsLong());
    if (from.equals(current)) {
      switchTo(nextListed(), from + " " + why);
    }
    return current;
  }

  /** The listed address after the current one that is not suspect, else simply the next one. */
  private String nextListed() {
    int at = listed.indexOf(current);
    if (at >= 0) {
      listIndex = at;
    }
    for (int step = 1; step <= listed.size(); step++) {
      int index = (listIndex + step) % listed.size();
      if (!suspect(listed.get(index))) {
        listIndex = index;
        return listed.get(index);
      }
    }
    listIndex = (listIndex + 1) % listed.size();
    return listed.get(listIndex);
  }

  private boolean suspect(String address) {
    Long failed = failedAt.get(address);
    if (failed == null) {
      return false;
    }
    if (nanoClock.getAsLong() - failed >= suspectNanos) {
      failedAt.remove(address);
      return false;
    }
    return true;
  }

  private void switchTo(String address, String why) {
    if (address.equals(current)) {
      return;
    }
    current = address;
    log.info("coordinator is now {} ({})", address, why);
  }

  private static boolean usable(String hint) {
    if (hint == null || hint.isEmpty()) {
      return false;
    }
    try {
      Addresses.parse(hint);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
