// Checks the shape of sys.config like Erlang's application_controller, then keeps kernel's sync_*.
#include "app/sys_config.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include "app/erlang_term.hpp"

namespace watercooler {

namespace {

using term_kind = erlang_term::kind;

bool is_pair(const erlang_term& term) {
  return term.type == term_kind::tuple && term.elements.size() == 2;
}

bool contains(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Stops at the first error, which points at the offending term.
class config_reader {
public:
  explicit config_reader(std::string_view file_name) : file_name_(file_name) {}

  outcome<sys_config> read(std::string_view text) {
    if (!read_terms(text))
      return outcome<sys_config>::fail(std::move(error_));
    return outcome<sys_config>::ok(std::move(config_));
  }

private:
  bool read_terms(std::string_view text) {
    const std::string shape = "a list of {Application, Settings} tuples";
    const auto parsed = parse_erlang_terms(text);
    if (!parsed) {
      error_ = file_name_ + ":" + parsed.error; // the parser's "line:column: message"
      return false;
    }
    const auto& terms = *parsed;
    if (terms.empty())
      return fail(1, 1, "unexpected end of input, expected " + shape);
    const erlang_term& top = terms.front();
    if (top.type != term_kind::list)
      return fail(top, "the configuration must be " + shape + " but found " + describe(top));
    if (terms.size() > 1)
      return fail(terms[1], "expected end of input after the configuration list but found "
                              + describe(terms[1]));
    std::vector<std::string> applications;
    for (const auto& entry : top.elements) {
      if (entry.type == term_kind::string)
        return fail(entry, "including other config files, like " + to_string(entry)
                             + ", is not supported");
      if (!is_pair(entry))
        return fail(entry, "each entry must be an {Application, Settings} tuple but found "
                             + describe(entry));
      const erlang_term& name = entry.elements[0];
      if (name.type != term_kind::atom)
        return fail(name, "an application name must be an atom but found " + describe(name));
      if (contains(applications, name.text))
        return fail(name, "duplicate application " + to_string(name));
      applications.push_back(name.text);
      if (!read_settings(name, entry.elements[1]))
        return false;
    }
    return true;
  }

  bool read_settings(const erlang_term& application, const erlang_term& settings) {
    const std::string quoted_application = to_string(application);
    if (settings.type != term_kind::list)
      return fail(settings, "the settings of " + quoted_application
                              + " must be a list of {Key, Value} tuples but found "
                              + describe(settings));
    std::vector<std::string> keys;
    for (const auto& setting : settings.elements) {
      if (!is_pair(setting))
        return fail(setting, "each setting of " + quoted_application
                               + " must be a {Key, Value} tuple but found " + describe(setting));
      const erlang_term& key = setting.elements[0];
      if (key.type != term_kind::atom)
        return fail(key, "a setting name must be an atom but found " + describe(key));
      if (contains(keys, key.text))
        return fail(key, "duplicate setting " + to_string(key) + " of " + quoted_application);
      keys.push_back(key.text);
      if (application.is_atom("kernel") && !read_kernel_setting(key, setting.elements[1]))
        return false;
    }
    return true;
  }

  bool read_kernel_setting(const erlang_term& key, const erlang_term& value) {
    if (key.is_atom("sync_nodes_optional"))
      return read_nodes(key.text, value, config_.sync_nodes_optional);
    if (key.is_atom("sync_nodes_mandatory"))
      return read_nodes(key.text, value, config_.sync_nodes_mandatory);
    if (!key.is_atom("sync_nodes_timeout"))
      return true;
    if (value.is_atom("infinity")) {
      config_.sync_nodes_timeout = std::chrono::milliseconds::max();
      return true;
    }
    if (value.type != term_kind::integer || value.integer < 0)
      return fail(value, "sync_nodes_timeout must be a non-negative integer or infinity but found "
                           + describe(value));
    config_.sync_nodes_timeout = std::chrono::milliseconds(value.integer);
    return true;
  }

  bool read_nodes(const std::string& key, const erlang_term& value,
                  std::vector<std::string>& nodes) {
    const std::string expected = key + " must be a list of node-name atoms but found ";
    if (value.type != term_kind::list)
      return fail(value, expected + describe(value));
    for (const auto& node : value.elements) {
      if (node.type != term_kind::atom)
        return fail(node, expected + describe(node));
      // A node is name@host; anything else could never be connected to.
      const auto at = node.text.find('@');
      if (at == 0 || at == std::string::npos || at + 1 == node.text.size()
          || node.text.find('@', at + 1) != std::string::npos)
        return fail(node, expected + describe(node) + ", which is not of the form name@host");
      nodes.push_back(node.text);
    }
    return true;
  }

  bool fail(int line, int column, const std::string& message) {
    error_ =
      file_name_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + message;
    return false;
  }

  bool fail(const erlang_term& at, const std::string& message) {
    return fail(at.line, at.column, message);
  }

  std::string file_name_;
  sys_config config_;
  std::string error_; // the first one; reading stops there
};

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

// The next whitespace-separated word of `text` from `at`, moving `at` past it; empty at the end.
std::string_view next_word(std::string_view text, std::size_t& at) {
  while (at < text.size() && is_space(text[at]))
    ++at;
  const std::size_t start = at;
  while (at < text.size() && !is_space(text[at]))
    ++at;
  return text.substr(start, at - start);
}

struct file_closer {
  void operator()(std::FILE* file) const {
    std::fclose(file);
  }
};

} // namespace

outcome<sys_config> parse_sys_config(std::string_view text, std::string_view file_name) {
  return config_reader(file_name).read(text);
}

outcome<sys_config> load_sys_config(const std::string& path) {
  const std::string file_name = ends_with(path, ".config") ? path : path + ".config";
  auto cannot_read = [&](int error_number) {
    return outcome<sys_config>::fail(file_name + ": cannot read: " + std::strerror(error_number));
  };
  std::unique_ptr<std::FILE, file_closer> file(std::fopen(file_name.c_str(), "rb"));
  if (!file)
    return cannot_read(errno);
  std::string text;
  char buffer[4096];
  while (const std::size_t count = std::fread(buffer, 1, sizeof buffer, file.get()))
    text.append(buffer, count);
  if (std::ferror(file.get()))
    return cannot_read(errno); // e.g. EISDIR: a directory opens but does not read
  return parse_sys_config(text, file_name);
}

std::optional<std::string> erl_config_path(std::string_view erl_args) {
  std::size_t at = 0;
  for (auto word = next_word(erl_args, at); !word.empty(); word = next_word(erl_args, at)) {
    if (word != "-config")
      continue;
    const auto file = next_word(erl_args, at);
    if (file.empty() || file.front() == '-' || file.front() == '+')
      return std::string();
    return std::string(file);
  }
  return std::nullopt;
}

} // namespace watercooler
