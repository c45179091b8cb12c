package io.craq.client;

import io.craq.core.message.ErrorCode;

/**
 * The authenticated user's role does not allow the request (a read-only user writing, a read-write
 * user changing the membership). Nothing was done.
 */
public final class PermissionDeniedException extends CraqException {
  private static final long serialVersionUID = 1L;

  public PermissionDeniedException(String message) {
    super(message, ErrorCode.PERMISSION_DENIED, null);
  }
}
