// Process-wide setup shared by the application and the GUI tests.
#pragma once

namespace dsui {

// Call before constructing QApplication: X11 + GLX platform (Debian's VTK needs GLX), OpenGL
// 3.3 core default surface format, shared GL contexts (docks can be floated and re-docked).
void configure_platform();

// Call after constructing QApplication: names for QSettings, thread count of the core.
void configure_application();

}  // namespace dsui
