// diffuscope: the desktop application.
#include <unistd.h>
#include <QApplication>
#include <cstdio>
#include <cstring>

#include "diffuscope/runtime.h"
#include "ui/application.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  // libgomp read its environment when it was loaded: start again with the wait policy that
  // keeps the workers' parallel loops from stalling when another program holds a core
  // (runtime.h). On failure the app runs on with libgomp's defaults.
  if (ds::configure_openmp_environment()) {
    char self[4096];  // the real path, so the process keeps its name ("exe" otherwise)
    const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
      self[n] = '\0';
      execv(self, argv);
    }
  }
  ds::configure_memory_allocator();  // before any tensor is made (runtime.h)
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--version")) {
      std::printf("%s\n", ds::version_report().c_str());
      return 0;
    }
    if (!std::strcmp(argv[i], "--help")) {
      std::printf(
          "usage: diffuscope [FILE...]\n"
          "Opens each file in its workspace: models (.h5, .pt, TorchScript), fields (.npy),\n"
          "chains (.nc, GetDist), likelihood maps and datasets (.h5), Quijote folders.\n");
      return 0;
    }
  }
  dsui::configure_platform();
  QApplication app(argc, argv);
  dsui::configure_application();
  dsui::MainWindow window;
  window.show();
  for (const QString& file : app.arguments().mid(1))
    if (!file.startsWith(QLatin1Char('-'))) window.openFile(file);
  return app.exec();
}
