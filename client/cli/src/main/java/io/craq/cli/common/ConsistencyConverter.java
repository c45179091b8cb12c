package io.craq.cli.common;

import io.craq.client.ReadConsistency;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** Turns {@code --consistency} text into a mode; a bad value is a usage error (exit code 2). */
public final class ConsistencyConverter implements ITypeConverter<ReadConsistency> {
  @Override
  public ReadConsistency convert(String value) {
    try {
      return ReadConsistency.parse(value);
    } catch (IllegalArgumentException e) {
      throw new TypeConversionException(e.getMessage());
    }
  }
}
