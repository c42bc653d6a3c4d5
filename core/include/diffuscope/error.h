// Typed exceptions for the three error kinds of STYLE.md: this file covers the first (bad input
// at IO and API boundaries). Numerical trouble inside samplers is data, not an exception.
#pragma once

#include <stdexcept>
#include <string>

namespace ds {

// Base of every error Diffuscope reports to a user. what() is one line, fit for a CLI error or a
// dialog.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file could not be read or written: names the file and the problem.
class FileError : public Error {
 public:
  FileError(std::string path, std::string reason)
      : Error(path + ": " + reason), path_(std::move(path)), reason_(std::move(reason)) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

// A value given by the user (option, parameter, shape) is out of range or malformed.
class InvalidArgument : public Error {
 public:
  using Error::Error;
};

// The requested device or feature is not available in this build or on this machine.
class Unavailable : public Error {
 public:
  using Error::Error;
};

}  // namespace ds
