// Errors as values: every fallible boundary (files, requests, user input) returns
// Result<T> or Status instead of throwing or aborting, so callers decide what a
// failure means and the process survives bad input.
#pragma once

#include <sstream>
#include <string>
#include <utility>
#include <variant>

namespace tandem {

struct Error {
  std::string message;
};

// Builds an Error from any streamable pieces: make_error("file ", path, ": bad magic").
template <class... Args>
Error make_error(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return Error{os.str()};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const { return std::get<1>(v_); }
  Error take_error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const { return error_; }
  Error take_error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace tandem

// Propagates the error of a Result/Status expression to the caller.
#define TANDEM_TRY(expr)                                   \
  do {                                                     \
    auto&& tandem_try_r_ = (expr);                         \
    if (!tandem_try_r_.ok()) return tandem_try_r_.error(); \
  } while (0)
