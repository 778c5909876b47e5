# Keeps docs/exercises.md true (a CTest test; see tools/CMakeLists.txt):
# runs every ```sh block of the page that uses heaplab, then checks that
# every line of every plain ``` block (the answers: heaplab's output) is a
# line heaplab printed. The speed column is left out of the comparison,
# because it is measured and changes from run to run.
#   HEAPLAB    the heaplab executable;
#   PAGE       the exercises page;
#   TRACES     the shipped traces folder (the commands say traces/...);
#   WORK_DIR   a scratch folder to run the commands in.
cmake_minimum_required(VERSION 3.25)  # IN_LIST, file(CREATE_LINK)

# A line without the parts that change from run to run: its speed cell
# ("0.42x"), or the speed column's heading and underline, and trailing spaces.
function(stable_part line out)
  string(REGEX REPLACE " +$" "" line "${line}")
  string(REGEX REPLACE "  +([0-9.]+x|speed vs glibc|-+)$" "" line "${line}")
  set(${out} "${line}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
file(CREATE_LINK "${TRACES}" "${WORK_DIR}/traces" SYMBOLIC)
get_filename_component(heaplab_dir "${HEAPLAB}" DIRECTORY)

# The page's code blocks, in order. (file(STRINGS) splits a line at ';',
# which only ever happens in the prose between the blocks.)
file(STRINGS "${PAGE}" lines)
set(block_kind "")   # "", "sh" or "output": the block we are in
set(script "")       # the ```sh block being read
set(expected "")     # every line of every output block
set(printed "")      # every line heaplab printed
set(commands 0)
foreach(line IN LISTS lines)
  if(block_kind STREQUAL "" AND line MATCHES "^```sh$")
    set(block_kind "sh")
    set(script "")
  elseif(block_kind STREQUAL "" AND line MATCHES "^```$")
    set(block_kind "output")
  elseif(line MATCHES "^```$")
    # The end of a block. Run a script that uses heaplab (the setup block,
    # which builds it, is not run here).
    if(block_kind STREQUAL "sh" AND script MATCHES "(^|\n)heaplab " AND NOT script MATCHES "cmake ")
      math(EXPR commands "${commands} + 1")
      execute_process(COMMAND "${CMAKE_COMMAND}" -E env "PATH=${heaplab_dir}:$ENV{PATH}" sh -ec "${script}"
                      WORKING_DIRECTORY "${WORK_DIR}"
                      RESULT_VARIABLE status OUTPUT_VARIABLE stdout ERROR_VARIABLE stderr)
      if(NOT status EQUAL 0)
        message(FATAL_ERROR "docs/exercises.md: this block failed (exit ${status}):\n${script}\n${stderr}")
      endif()
      string(REPLACE "\n" ";" stdout_lines "${stdout}")
      foreach(printed_line IN LISTS stdout_lines)
        stable_part("${printed_line}" stable)
        list(APPEND printed "${stable}")
      endforeach()
    endif()
    set(block_kind "")
  elseif(block_kind STREQUAL "sh")
    string(APPEND script "${line}\n")
  elseif(block_kind STREQUAL "output" AND NOT line STREQUAL "")
    list(APPEND expected "${line}")
  endif()
endforeach()

if(commands EQUAL 0)
  message(FATAL_ERROR "docs/exercises.md: no heaplab command found: has the page's format changed?")
endif()
list(LENGTH expected answer_lines)
if(answer_lines EQUAL 0)
  message(FATAL_ERROR "docs/exercises.md: no answer output found: has the page's format changed?")
endif()
foreach(line IN LISTS expected)
  stable_part("${line}" stable)
  if(NOT stable IN_LIST printed)
    message(FATAL_ERROR "docs/exercises.md: an answer no longer matches what heaplab prints:\n"
                        "  ${line}\nRun the exercise's command again and update the page.")
  endif()
endforeach()
message(STATUS "${commands} blocks run, ${answer_lines} answer lines match")
