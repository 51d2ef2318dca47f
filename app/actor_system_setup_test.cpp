#include <cstddef>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/policy/work_sharing.hpp>
#include <caf/scheduler/coordinator.hpp>
#include <doctest/doctest.h>
#include <sched.h>

#include "app/actor_system_setup.hpp"

using namespace watercooler;

namespace {

struct scheduler_seen {
  std::size_t workers = 0;
  bool sharing = false;
};

scheduler_seen start_system() {
  caf::actor_system_config cfg;
  configure_actor_system(cfg, std::nullopt);
  caf::actor_system system{cfg};
  auto& scheduler = system.scheduler();
  return {scheduler.num_workers(),
          dynamic_cast<caf::scheduler::coordinator<caf::policy::work_sharing>*>(&scheduler)
            != nullptr};
}

} // namespace

TEST_CASE("the actor system gets a work-sharing worker per CPU the process may run on") {
  cpu_set_t mine;
  CPU_ZERO(&mine);
  REQUIRE(sched_getaffinity(0, sizeof mine, &mine) == 0);
  auto cpus = static_cast<std::size_t>(CPU_COUNT(&mine));
  CHECK(usable_cpus() == cpus);
  auto seen = start_system();
  CHECK(seen.workers == cpus);
  CHECK(seen.sharing);

  SUBCASE("a process pinned to one CPU (taskset -c N) gets one worker") {
    int first = 0;
    while (!CPU_ISSET(first, &mine))
      ++first;
    std::size_t pinned_cpus = 0;
    scheduler_seen pinned;
    // The mask is per thread and inherited: a thread pinned here starts the system as a pinned
    // process's main thread would.
    std::thread([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(first, &one);
      if (sched_setaffinity(0, sizeof one, &one) != 0)
        return;
      pinned_cpus = usable_cpus();
      pinned = start_system();
    }).join();
    CHECK(pinned_cpus == 1);
    CHECK(pinned.workers == 1);
    CHECK(pinned.sharing);
  }
}
