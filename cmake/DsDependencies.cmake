# Finds every third-party dependency once, with a hint on how to install what is missing.
find_package(PkgConfig REQUIRED)
set(DS_APT_HINT "On Debian 12 run: sudo scripts/setup-debian.sh")

macro(ds_require found what package)
  if(NOT ${found})
    message(FATAL_ERROR "${what} not found. ${DS_APT_HINT} (package ${package}).")
  endif()
endmacro()

# LibTorch: Debian's libtorch-dev by default; any other build (e.g. the CUDA LibTorch inside a
# PyTorch installation) through CMAKE_PREFIX_PATH=$(python3 -c 'import torch;print(torch.utils.cmake_prefix_path)').
find_package(Torch QUIET)
ds_require(Torch_FOUND "LibTorch" "libtorch-dev, or CMAKE_PREFIX_PATH pointing at a LibTorch")
message(STATUS "LibTorch: ${Torch_DIR}")

find_package(HDF5 QUIET COMPONENTS C HL)
ds_require(HDF5_FOUND "HDF5" "libhdf5-dev")

pkg_check_modules(FFTW3 QUIET IMPORTED_TARGET fftw3 fftw3f)
ds_require(FFTW3_FOUND "FFTW3" "libfftw3-dev")

find_package(nlohmann_json 3 QUIET)
ds_require(nlohmann_json_FOUND "nlohmann-json" "nlohmann-json3-dev")

find_package(Eigen3 3.3 QUIET NO_MODULE)
ds_require(Eigen3_FOUND "Eigen 3" "libeigen3-dev")

find_package(CLI11 QUIET)
ds_require(CLI11_FOUND "CLI11" "libcli11-dev")

if(DS_BUILD_GUI)
  find_package(Qt6 QUIET COMPONENTS Widgets OpenGL OpenGLWidgets PrintSupport Svg Concurrent Test)
  ds_require(Qt6_FOUND "Qt6 (Widgets, OpenGL, OpenGLWidgets, PrintSupport, Svg, Concurrent, Test)"
             "qt6-base-dev libqt6opengl6-dev qt6-svg-dev; or configure with -DDS_BUILD_GUI=OFF")
  find_package(QCustomPlotQt6 QUIET)
  ds_require(QCustomPlotQt6_FOUND "QCustomPlot for Qt6" "libqcustomplot-dev libqcustomplot2.1-qt6")
  find_package(VTK QUIET COMPONENTS CommonCore CommonDataModel FiltersCore FiltersSources
               FiltersGeneral RenderingCore RenderingOpenGL2 RenderingFreeType RenderingAnnotation
               InteractionStyle InteractionWidgets IOXML)
  ds_require(VTK_FOUND "VTK 9" "libvtk9-dev")
  pkg_check_modules(IMGUI QUIET IMPORTED_TARGET imgui)
  ds_require(IMGUI_FOUND "Dear ImGui" "libimgui-dev libstb-dev")
  message(STATUS "Qt ${Qt6_VERSION}, VTK ${VTK_VERSION}, Dear ImGui ${IMGUI_VERSION}")
endif()
