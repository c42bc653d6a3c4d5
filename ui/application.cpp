#include "ui/application.h"

#include <QApplication>
#include <QSurfaceFormat>

#include "diffuscope/runtime.h"

namespace dsui {

void configure_platform() {
  // Debian's VTK uses GLEW built for GLX: force X11 + GLX even on Wayland (gui-stack notes).
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "xcb");
  if (qEnvironmentVariableIsEmpty("QT_XCB_GL_INTEGRATION"))
    qputenv("QT_XCB_GL_INTEGRATION", "xcb_glx");
  QSurfaceFormat format;
  format.setVersion(3, 3);
  format.setProfile(QSurfaceFormat::CoreProfile);
  format.setDepthBufferSize(24);
  format.setStencilBufferSize(8);
  QSurfaceFormat::setDefaultFormat(format);
  QApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
}

void configure_application() {
  QApplication::setOrganizationName(QStringLiteral("Diffuscope"));
  QApplication::setApplicationName(QStringLiteral("Diffuscope"));
  QApplication::setApplicationVersion(QString::fromStdString(ds::library_versions().diffuscope));
  ds::set_thread_count(0);
}

}  // namespace dsui
