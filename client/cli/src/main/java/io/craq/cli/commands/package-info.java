/**
 * The subcommands of {@code craq} that read and write keys and show the chain: {@code write},
 * {@code read}, {@code delete}, {@code readall}, {@code chain}, {@code stats}. Each is a picocli
 * {@code Callable} mixing in the shared options; output goes through the command's writers.
 */
package io.craq.cli.commands;
