/**
 * The CRAQ client library: {@link io.craq.client.CraqClient} with its configuration ({@link
 * io.craq.client.ClientConfig}), results and exceptions. It needs the core and the transport only;
 * the {@code craq} command-line tool built on it is in client/cli. See docs/CLIENT.md.
 */
package io.craq.client;
