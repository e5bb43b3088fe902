//! Unit tests of the sed compiler and executor.
