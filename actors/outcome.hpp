// The one error idiom of actors/ and app/: a value, or the words that say why there is none.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace watercooler {

// A value, or the text that says why there is none, written for a person: start-up code prints
// it and exits, actors log it or pass it on. Made by ok() or fail(); `error` is empty on success.
template <class T>
struct outcome {
  std::optional<T> value;
  std::string error;

  static outcome ok(T x) {
    return outcome{std::move(x), {}};
  }
  static outcome fail(std::string why) {
    return outcome{std::nullopt, std::move(why)};
  }
  explicit operator bool() const {
    return value.has_value();
  }
  const T& operator*() const {
    return *value;
  }
  T& operator*() {
    return *value;
  }
  const T* operator->() const {
    return &*value;
  }
  T* operator->() {
    return &*value;
  }
};

// Done, or why not: the same for a step that has no value to give.
template <>
struct outcome<void> {
  bool done = false;
  std::string error;

  static outcome ok() {
    return outcome{true, {}};
  }
  static outcome fail(std::string why) {
    return outcome{false, std::move(why)};
  }
  explicit operator bool() const {
    return done;
  }
};

} // namespace watercooler
