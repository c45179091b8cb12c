package io.craq.cli.common;

import io.craq.client.AmbiguousWriteException;
import io.craq.client.CraqException;
import io.craq.client.InvalidRequestException;
import io.craq.client.NotAnIntegerException;
import io.craq.client.NotAuthenticatedException;
import io.craq.client.PermissionDeniedException;
import io.craq.client.VersionMismatchException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The exit codes of the {@code craq} command, in one place (documented in docs/CLIENT.md and in
 * {@code craq --help}). Scripts can tell "the write certainly did not happen" (3) from "it may have
 * happened" (4).
 */
public final class ExitCodes {
  private ExitCodes() {}

  /** The command did what was asked. */
  public static final int OK = 0;

  /** A read found no value: the key was never written or was deleted. */
  public static final int NOT_FOUND = 1;

  /**
   * The command line was wrong (unknown option, missing argument, bad value): the reason and a hint
   * naming --help go to stderr.
   */
  public static final int USAGE = 2;

  /** No answer in time: a read failed, or a write certainly was not applied. */
  public static final int UNAVAILABLE = 3;

  /** A write was sent but its outcome is unknown: it may or may not have been applied. */
  public static final int AMBIGUOUS_WRITE = 4;

  /** A conditional write ({@code --if-version}) was refused: the version did not match. */
  public static final int VERSION_MISMATCH = 5;

  /** The server or the client refused the request itself (e.g. key or value too large). */
  public static final int INVALID_REQUEST = 6;

  /**
   * An increment ({@code incr}) was refused: the value is not a 64-bit decimal integer, or the
   * result would overflow. Nothing was written.
   */
  public static final int NOT_AN_INTEGER = 7;

  /**
   * The server requires authentication, and the client gave no credentials or credentials it
   * refused (unknown user, wrong password, a removed user). Nothing was done.
   */
  public static final int NOT_AUTHENTICATED = 8;

  /**
   * The user's role does not allow the request (e.g. a read-only user writing). Nothing was done.
   */
  public static final int PERMISSION_DENIED = 9;

  /** An unexpected failure inside the client (a bug); a stack trace goes to stderr. */
  public static final int INTERNAL_ERROR = 70;

  /** The exit code for a failure thrown by a command. */
  public static int of(Throwable failure) {
    if (failure instanceof AmbiguousWriteException) {
      return AMBIGUOUS_WRITE;
    }
    if (failure instanceof VersionMismatchException) {
      return VERSION_MISMATCH;
    }
    if (failure instanceof NotAnIntegerException) {
      return NOT_AN_INTEGER;
    }
    if (failure instanceof NotAuthenticatedException) {
      return NOT_AUTHENTICATED;
    }
    if (failure instanceof PermissionDeniedException) {
      return PERMISSION_DENIED;
    }
    if (failure instanceof InvalidRequestException) {
      return INVALID_REQUEST;
    }
    if (failure instanceof CraqException) {
      // UnavailableException and any other client-side refusal: nothing was applied.
      return UNAVAILABLE;
    }
    return INTERNAL_ERROR;
  }

  /** Code to description, for {@code craq --help}. */
  public static Map<String, String> descriptions() {
    Map<String, String> lines = new LinkedHashMap<>();
    lines.put(Integer.toString(OK), "success");
    lines.put(Integer.toString(NOT_FOUND), "not found (read of an absent or deleted key)");
    lines.put(Integer.toString(USAGE), "usage error");
    lines.put(
        Integer.toString(UNAVAILABLE),
        "unavailable or timed out (a write was certainly not applied)");
    lines.put(
        Integer.toString(AMBIGUOUS_WRITE), "ambiguous write (it may or may not have been applied)");
    lines.put(Integer.toString(VERSION_MISMATCH), "version mismatch (--if-version)");
    lines.put(Integer.toString(INVALID_REQUEST), "invalid request (key or value refused)");
    lines.put(
        Integer.toString(NOT_AN_INTEGER), "not an integer (incr of a non-integer, or overflow)");
    lines.put(
        Integer.toString(NOT_AUTHENTICATED),
        "not authenticated (no credentials, or refused ones; nothing was done)");
    lines.put(
        Integer.toString(PERMISSION_DENIED),
        "permission denied (the user's role does not allow it; nothing was done)");
    lines.put(Integer.toString(INTERNAL_ERROR), "internal error (a bug in the client)");
    return lines;
  }
}
