# Renders the small book in SOURCE with tools/book/render_book.py (PYTHON3)
# and fails unless the rendered page PAGE (in SOURCE/docs/book/) holds the
# text LINK: a link the renderer must write as it is.
#
#   cmake -DPYTHON3=... -DRENDER=... -DSOURCE=... -DPAGE=... -DLINK=... -P expect_book_link.cmake
execute_process(COMMAND ${PYTHON3} ${RENDER} --source ${SOURCE} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "render_book failed (${status}): ${out}")
endif()
file(READ ${SOURCE}/docs/book/${PAGE} page)
string(FIND "${page}" "${LINK}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "docs/book/${PAGE} does not hold ${LINK}:\n${page}")
endif()
