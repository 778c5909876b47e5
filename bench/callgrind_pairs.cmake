# Instructions per allocate + free pair, ours and glibc's, counted by
# callgrind (bench/pair_instructions.cpp says what is counted):
#
#   cmake -DVALGRIND=<valgrind> -DPROGRAM=<pair_instructions> -DWORK_DIR=<dir>
#         -P callgrind_pairs.cmake
#
# Prints one line per contender and the ratio of each of ours to glibc.
# Fails only when the program or valgrind fails, or a count is missing: an instruction count
# is a measurement, and a missed target is reported, never an error.
set(pairs 100000)  # kPairs of pair_instructions.cpp
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
execute_process(
    COMMAND "${VALGRIND}" --tool=callgrind --collect-atstart=no
            "--callgrind-out-file=${WORK_DIR}/callgrind.out" "${PROGRAM}"
    RESULT_VARIABLE status OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "callgrind failed (${status}):\n${stdout}\n${stderr}")
endif()

# Each CALLGRIND_DUMP_STATS_AT(name) wrote one part, callgrind.out.<n>,
# whose "desc: Trigger: Client Request: <name>" line names the contender and
# whose "totals:" (or "summary:") line is its instruction count.
file(GLOB parts "${WORK_DIR}/callgrind.out.*")
foreach(part IN LISTS parts)
  file(STRINGS "${part}" trigger REGEX "^desc: Trigger: Client Request: ")
  file(STRINGS "${part}" totals REGEX "^(totals|summary): [0-9]+")
  if(trigger AND totals)
    string(REGEX REPLACE "^desc: Trigger: Client Request: " "" name "${trigger}")
    string(REGEX REPLACE "^(totals|summary): ([0-9]+).*" "\\2" count "${totals}")
    set(count_${name} ${count})
  endif()
endforeach()

foreach(name IN ITEMS segregated_fit quick_fit two_level_fit glibc)
  if(NOT DEFINED count_${name})
    message(FATAL_ERROR "callgrind wrote no count for ${name}; its parts: ${parts}\n${stderr}")
  endif()
  # Two decimals with integer arithmetic: hundredths of an instruction.
  math(EXPR hundredths "(${count_${name}} * 100 + ${pairs} / 2) / ${pairs}")
  math(EXPR whole "${hundredths} / 100")
  math(EXPR frac "${hundredths} % 100")
  if(frac LESS 10)
    set(frac "0${frac}")
  endif()
  set(per_pair_${name} "${whole}.${frac}")
  message("instructions per pair (16 B), ${name}: ${whole}.${frac}  (${count_${name}} for ${pairs} pairs)")
endforeach()
foreach(name IN ITEMS segregated_fit quick_fit two_level_fit)
  math(EXPR ratio "(${count_${name}} * 100 + ${count_glibc} / 2) / ${count_glibc}")
  math(EXPR whole "${ratio} / 100")
  math(EXPR frac "${ratio} % 100")
  if(frac LESS 10)
    set(frac "0${frac}")
  endif()
  if(count_${name} GREATER count_glibc)
    set(verdict "target (<= 1.00) missed")
  else()
    set(verdict "target (<= 1.00) met")
  endif()
  message("ratio ${name} / glibc: ${whole}.${frac}  ${verdict}")
endforeach()
