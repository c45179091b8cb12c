/**
 * The {@code craq} command-line tool: {@link io.craq.cli.CraqMain} and its subcommands. The
 * packages depend on each other in one direction only: this one on the others; {@code commands},
 * {@code bench} and {@code cluster} on {@code common}; {@code bench} also on {@code cluster};
 * {@code common} on none of them. See docs/CLIENT.md.
 */
package io.craq.cli;
