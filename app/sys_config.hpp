// Erlang's sys.config, read as `erl -config` does: which peers to join and how long to wait.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/outcome.hpp"

namespace watercooler {

// The kernel settings watercooler honours; every other setting is checked for shape, then ignored.
struct sys_config {
  std::vector<std::string> sync_nodes_optional; // node names, e.g. "node1@127.0.0.1"
  std::vector<std::string> sync_nodes_mandatory;
  std::chrono::milliseconds sync_nodes_timeout{0}; // Erlang's default; `infinity` is max()
};

// `text` must hold one list of {Application, [{Key, Value}]} tuples, ended by '.', with atoms
// for names, no duplicate applications or keys, and name@host atoms for node names. Either the
// configuration or the first error, which starts with "`file_name`:line:column: ", such as
// "sys.config:3:5: expected '.'".
outcome<sys_config> parse_sys_config(std::string_view text, std::string_view file_name);

// Reads and parses `path`, appending ".config" unless it already ends so, as Erlang does
// (`-config sys` reads sys.config). An unreadable file gives
// "sys.config: cannot read: No such file or directory".
outcome<sys_config> load_sys_config(const std::string& path);

// FILE from an `--erl` argument string such as "-config sys.config" or "-config sys -other flags".
// nullopt: there is no -config flag. An empty string: -config is not followed by a file name
// (it ends the string or another flag follows), a usage error. Of `-config a b`, only `a` is
// returned. Words are split at whitespace; quotes are not understood.
std::optional<std::string> erl_config_path(std::string_view erl_args);

} // namespace watercooler
