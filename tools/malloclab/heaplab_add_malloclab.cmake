# heaplab_add_malloclab(<name> SOURCES <mm.c> [more C files...]
#                       [SUMMARY <text>] [LAB_ONLY])
#
#   A CS:APP malloc-lab allocator (an mm.c over memlib) in the course:
#   compiles the C files (C11; warnings on, but never errors, in the
#   learner's files) with memlib into the library heaplab_malloclab_<name>,
#   whose heaplab::MallocLabAllocator runs the mm.c, and hands that type to
#   heaplab_add_allocator() (tools/yours/heaplab_add_allocator.cmake): the
#   contract suite, the bad-input catalogue and the model test as
#   <name>_tests, and heaplab-<name>, the lab with the mm.c among its
#   allocators. LAB_ONLY builds heaplab-<name> alone (no graded tests): for
#   mm.c files that are broken on purpose, to test the lab's answers.
#
#   The project must have C enabled (project(... LANGUAGES C CXX)); this
#   file enables it too, for builds where it is included on its own.
enable_language(C)

set(HEAPLAB_MALLOCLAB_DIR ${CMAKE_CURRENT_LIST_DIR} CACHE INTERNAL "tools/malloclab")

# memlib, once for every malloc-lab allocator: it needs nothing of theirs.
if(NOT TARGET heaplab_malloclab_memlib)
  add_library(heaplab_malloclab_memlib STATIC ${HEAPLAB_MALLOCLAB_DIR}/memlib.c ${HEAPLAB_MALLOCLAB_DIR}/memlib.h)
  set_target_properties(heaplab_malloclab_memlib PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_include_directories(heaplab_malloclab_memlib PUBLIC ${HEAPLAB_MALLOCLAB_DIR})
  target_link_libraries(heaplab_malloclab_memlib PUBLIC heaplab_options)
endif()

function(heaplab_add_malloclab name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "LAB_ONLY" "SUMMARY" "SOURCES")
  if(NOT arg_SOURCES)
    message(FATAL_ERROR "heaplab_add_malloclab(${name}): SOURCES needs the mm.c")
  endif()
  if(NOT arg_SUMMARY)
    set(arg_SUMMARY "a malloc-lab mm.c")
  endif()
  set(library heaplab_malloclab_${name})
  # The adapter is compiled with the mm.c, in one library: it calls mm_*,
  # and a static library must come before the one it needs on the link line.
  add_library(${library} STATIC ${arg_SOURCES}
      ${HEAPLAB_MALLOCLAB_DIR}/malloc_lab_allocator.cpp ${HEAPLAB_MALLOCLAB_DIR}/malloc_lab_allocator.hpp)
  set_target_properties(${library} PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)
  target_link_libraries(${library} PUBLIC heaplab_malloclab_memlib heaplab::stage1)
  # The learner's C files: every warning shown, none of them fatal.
  set_source_files_properties(${arg_SOURCES} PROPERTIES COMPILE_OPTIONS "-Wno-error")

  if(arg_LAB_ONLY)
    heaplab_malloclab_lab(${name} ${library} "${arg_SUMMARY}")
  elseif(COMMAND heaplab_add_allocator)
    heaplab_malloclab_hand_over(${name} ${library} "${arg_SUMMARY}")
  else()
    # Called before the course's heaplab_add_allocator() is defined (the
    # example, from tools/): hand over at the end of the top directory,
    # where it is.
    # (A deferred call's arguments are evaluated when it runs, in the top
    # directory, so EVAL writes the values in now, as bracket arguments.)
    cmake_language(EVAL CODE "cmake_language(DEFER DIRECTORY [[${PROJECT_SOURCE_DIR}]]
        CALL heaplab_malloclab_hand_over [[${name}]] [[${library}]] [[${arg_SUMMARY}]])")
  endif()
endfunction()

# heaplab_malloclab_hand_over(<name> <library> <summary>)
#   heaplab_add_allocator() of the mm.c in <library>, or, in a build
#   without it, heaplab-<name> alone.
function(heaplab_malloclab_hand_over name library summary)
  if(NOT COMMAND heaplab_add_allocator)
    heaplab_malloclab_lab(${name} ${library} "${summary}")
    return()
  endif()
  heaplab_add_allocator(${name}
      TYPE heaplab::MallocLabAllocator
      HEADER ${HEAPLAB_MALLOCLAB_DIR}/malloc_lab_allocator.hpp
      LIBRARIES ${library}
      SUMMARY "${summary}")
endfunction()

# heaplab_malloclab_lab(<name> <library> <summary>)
#   heaplab-<name>: the lab's command line with the mm.c of <library> as
#   the one allocator of yours.
function(heaplab_malloclab_lab name library summary)
  add_executable(heaplab-${name} ${HEAPLAB_MALLOCLAB_DIR}/heaplab_main.cpp)
  target_link_libraries(heaplab-${name} PRIVATE ${library} heaplab::cli)
  target_compile_definitions(heaplab-${name} PRIVATE
      "HEAPLAB_MALLOCLAB_NAME=\"${name}\"" "HEAPLAB_MALLOCLAB_SUMMARY=\"${summary}\"")
endfunction()
