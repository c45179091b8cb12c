package io.craq.core.store;

import io.craq.core.message.KeyRecord;
import java.util.List;

/**
 * One bounded page of a key-ordered scan ({@link StoreView#readKeys}).
 *
 * @param records the keys of this page in key order, each with its committed version (or null) and
 *     its dirty versions in increasing order; never more than the requested maximum
 * @param resumeAfterKey the key to pass as {@code afterKey} to read the next page (the last key of
 *     this page), or the given {@code afterKey} when the page is empty
 * @param done true when no key after this page existed at the time of the read
 */
public record KeyPage(List<KeyRecord> records, String resumeAfterKey, boolean done) {
  public KeyPage {
    records = List.copyOf(records);
  }
}
