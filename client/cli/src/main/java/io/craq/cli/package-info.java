/**
 * The {@code craq} command-line tool: {@link io.craq.cli.CraqMain} and its subcommands. The
 * packages depend on each other in one direction only: this one on the others; {@code commands}
 * and {@code bench} on {@code common}; {@code common} on none of them. See docs/CLIENT.md.
 */
package io.craq.cli;
