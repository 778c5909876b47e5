# Keeps the course speaking of itself only (a CTest test; see the top-level
# CMakeLists.txt): no page, header, source, test or script of the course
# names the documents it was planned from, or how it was planned, instead of
# citing outside work by its public name (sheredom's `bump_alloc` crate, the
# CS:APP malloc lab, ...).
#   ROOT   the repository's root.
cmake_minimum_required(VERSION 3.25)

# Each pattern is a way the course once spoke of its own making. (A space is
# written [ ] so that this file does not hold the phrases it looks for.)
set(patterns
    "seed 0[0-9][0-9]"
    "[Ss]eed [0-9][0-9][0-9]"
    "[Gg]o seed"
    "[Rr]ust seed"
    "the seed's"
    "bump[ ]primer"
    "was[ ]asked[ ]from"
    "DESIGN\\.md"
    "course brief"
    "[Tt]he issue")

file(GLOB_RECURSE files RELATIVE "${ROOT}"
     "${ROOT}/*.md" "${ROOT}/*.hpp" "${ROOT}/*.h" "${ROOT}/*.cpp" "${ROOT}/*.in" "${ROOT}/*.py"
     "${ROOT}/*.cmake" "${ROOT}/*.txt" "${ROOT}/*.sql" "${ROOT}/.ci/run")
set(found "")
foreach(file IN LISTS files)
  # Build trees, and this script (which must name the patterns), are not the course's text.
  if(file MATCHES "^build" OR file MATCHES "/build/" OR file STREQUAL "docs/check_own_words.cmake")
    continue()
  endif()
  file(STRINGS "${ROOT}/${file}" lines)
  set(number 0)
  foreach(line IN LISTS lines)
    math(EXPR number "${number} + 1")
    foreach(pattern IN LISTS patterns)
      if(line MATCHES "${pattern}")
        string(APPEND found "\n  ${file}:${number}: ${line}")
        break()
      endif()
    endforeach()
  endforeach()
endforeach()
if(found)
  message(FATAL_ERROR "the course speaks of its own making; cite outside work by its public name:${found}")
endif()
message(STATUS "no word of the course's own making in ${ROOT}")
