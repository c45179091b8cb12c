/** {@code craq user}: edits the users file the servers' {@code --users} names. */
package io.craq.cli.users;
