/**
 * The CRAQ client library and the {@code craq} command-line tool. Not built yet: see the
 * executables issue.
 */
package io.craq.client;
