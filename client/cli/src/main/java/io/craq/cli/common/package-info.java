/**
 * What the commands of the {@code craq} tool share: the option mixins ({@link
 * io.craq.cli.common.ClientOptions}, {@link io.craq.cli.common.JsonOption}), the exit codes and the
 * one-line diagnostics. Depends on the client library and picocli only; every other package of the
 * tool may use it, and it uses none of them.
 */
package io.craq.cli.common;
