# The layering of core's folders (issue 14): each folder may include its own headers and those of
# folders below it. Run as a test (tests/CMakeLists.txt, `core_layering`):
#   cmake -D SOURCE_DIR=<repo> -P cmake/DsCheckLayers.cmake
# It lists every include of core/include/diffuscope/<folder>/ and core/src/<folder>/ that reaches a
# folder of the same or a higher layer and fails on any that is not listed in kKnownUpward below
# (empty: there are none), and on a listed one that is gone (so the list only shrinks).

cmake_minimum_required(VERSION 3.20)

# Bottom-up: a folder may include the folders of lower layers.
set(kLayers
  "jobs=0" "numerics=1" "data=2" "stats=3" "cosmology=4" "mock=5" "density=6" "nets=7"
  "diffusion=8" "pointcloud=8" "train=9" "infer=10" "model=11" "report=12" "batch=12" "bench=13")
# Upward includes allowed for now, FROM->TO (none: core's folders form a DAG; keep it so).
set(kKnownUpward)

foreach(entry IN LISTS kLayers)
  string(REPLACE "=" ";" pair "${entry}")
  list(GET pair 0 name)
  list(GET pair 1 rank)
  set(rank_${name} ${rank})
endforeach()

file(GLOB_RECURSE files
  "${SOURCE_DIR}/core/include/diffuscope/*.h"
  "${SOURCE_DIR}/core/src/*.h" "${SOURCE_DIR}/core/src/*.cpp")
set(found "")
set(report "")
foreach(file IN LISTS files)
  file(RELATIVE_PATH rel "${SOURCE_DIR}/core" "${file}")
  if(rel MATCHES "^include/diffuscope/([a-z_]+)/")
    set(from "${CMAKE_MATCH_1}")
  elseif(rel MATCHES "^src/([a-z_]+)/")
    set(from "${CMAKE_MATCH_1}")
  else()
    continue()  # top-level files (error.h, runtime, text) sit below every folder
  endif()
  if(NOT DEFINED rank_${from})
    message(FATAL_ERROR "core folder '${from}' has no layer in cmake/DsCheckLayers.cmake")
  endif()
  file(STRINGS "${file}" includes REGEX "^#include \"(diffuscope/)?[a-z_]+/")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^#include \"(diffuscope/)?([a-z_]+)/.*" "\\2" to "${line}")
    if(to STREQUAL from OR NOT DEFINED rank_${to})
      continue()
    endif()
    if(rank_${to} GREATER_EQUAL rank_${from})
      list(APPEND found "${from}->${to}")
      string(APPEND report "  ${rel}: ${line}\n")
    endif()
  endforeach()
endforeach()
list(REMOVE_DUPLICATES found)

set(failed FALSE)
foreach(edge IN LISTS found)
  if(NOT edge IN_LIST kKnownUpward)
    message(SEND_ERROR "new upward include ${edge}: a folder includes one of its own or a higher layer")
    set(failed TRUE)
  endif()
endforeach()
foreach(edge IN LISTS kKnownUpward)
  if(NOT edge IN_LIST found)
    message(SEND_ERROR "${edge} is gone: remove it from kKnownUpward in cmake/DsCheckLayers.cmake")
    set(failed TRUE)
  endif()
endforeach()
list(LENGTH found count)
if(failed)
  message(FATAL_ERROR "core layering check failed; upward includes:\n${report}")
endif()
message(STATUS "core layering: ${count} known upward include edges, no new ones")
