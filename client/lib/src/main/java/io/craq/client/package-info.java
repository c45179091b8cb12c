/**
 * The CRAQ client library ({@link io.craq.client.CraqClient}) and the {@code craq} command-line
 * tool ({@link io.craq.client.CraqMain}). See docs/CLIENT.md.
 */
package io.craq.client;
