// FieldViewport under Xvfb with Mesa's software OpenGL: what reaches the framebuffer (colour maps,
// orientation, aspect, the ImGui panel) and how mouse input maps to edits and view changes.
#include <QImage>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QSurfaceFormat>
#include <QTest>
#include <QWheelEvent>
#include <cmath>
#include <memory>

#include "gui_test_support.h"
#include "ui/field_view/field_viewport.h"

using dsui::FieldImage;
using dsui::FieldPanelItem;
using dsui::FieldParameters;
using dsui::FieldViewport;

namespace {

constexpr double kPi = 3.14159265358979323846;

// Waves plus a gradient: thousands of distinct values, all of them positive densities.
std::shared_ptr<FieldImage> WavePattern(int n = 64) {
  auto image = std::make_shared<FieldImage>();
  image->n = n;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double x = double(j) / n, y = double(i) / n;
      image->values.push_back(float(std::exp(std::sin(4 * kPi * x) * std::cos(6 * kPi * y) + x)));
    }
  return image;
}

// value = i * n + j: increases down the rows, so orientation and the map's ends are checkable.
std::shared_ptr<FieldImage> RampPattern(int n = 64) {
  auto image = std::make_shared<FieldImage>();
  image->n = n;
  for (int k = 0; k < n * n; ++k) image->values.push_back(float(k));
  return image;
}

void ShowAndRender(FieldViewport& view, std::shared_ptr<const FieldImage> image,
                   QSize size = {640, 640}) {
  view.resize(size);
  view.show();
  QVERIFY(QTest::qWaitForWindowExposed(&view));
  view.setImage(std::move(image));
  QTRY_VERIFY(view.hasRenderedImage());
  QTRY_VERIFY(!view.panelItemRect(FieldPanelItem::OmegaMSlider).isEmpty());
}

// In widget pixels whatever the device pixel ratio, so that the coordinates below hold.
QImage Grab(FieldViewport& view) {
  const QImage frame = view.grabFramebuffer();
  if (frame.size() == view.size()) return frame;
  return frame.scaled(view.size(), Qt::IgnoreAspectRatio, Qt::FastTransformation);
}

void SendMouse(QWidget& widget, QEvent::Type type, QPointF pos, Qt::MouseButton button,
               Qt::MouseButtons buttons) {
  QMouseEvent event(type, pos, widget.mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QCoreApplication::sendEvent(&widget, &event);
}

void SendWheel(QWidget& widget, QPointF pos, int angle_delta) {
  QWheelEvent event(pos, widget.mapToGlobal(pos), QPoint(), QPoint(0, angle_delta), Qt::NoButton,
                    Qt::NoModifier, Qt::NoScrollPhase, false);
  QCoreApplication::sendEvent(&widget, &event);
}

bool Near(QRgb actual, QRgb expected, int tolerance = 3) {
  return std::abs(qRed(actual) - qRed(expected)) <= tolerance &&
         std::abs(qGreen(actual) - qGreen(expected)) <= tolerance &&
         std::abs(qBlue(actual) - qBlue(expected)) <= tolerance;
}

QString Describe(QRgb c) {
  return QStringLiteral("#%1").arg(c & 0xffffff, 6, 16, QLatin1Char('0'));
}

}  // namespace

class TestFieldViewport : public QObject {
  Q_OBJECT

 public:
  // QTEST_MAIN calls this before it creates the QApplication, which is when the GL format counts.
  // Same settings as the application (dsui::configure_platform).
  static void initMain() {
    QSurfaceFormat format;
    format.setVersion(3, 3);
    format.setProfile(QSurfaceFormat::CoreProfile);
    QSurfaceFormat::setDefaultFormat(format);
    QCoreApplication::setAttribute(Qt::AA_ShareOpenGLContexts);
  }

 private Q_SLOTS:
  void rendersFieldAndPanel();
  void letterboxesNonSquareWidgets();
  void colormapsAndScalingsChangeTheImage();
  void sliderDragEmitsParametersEdited();
  void setParametersDoesNotEmit();
  void wheelZoomsAboutCursorAndDoubleClickResets();
  void viewportsKeepSeparateImGuiState();
  void survivesANewGlContext();
};

void TestFieldViewport::rendersFieldAndPanel() {
  FieldViewport view;
  ShowAndRender(view, WavePattern());
  const QImage viridis = Grab(view);
  dstest::save_screenshot(viridis, "field_viewport_viridis");
  QCOMPARE(viridis.size(), QSize(640, 640));
  QVERIFY2(dstest::distinct_colours(viridis) > 50, "the field looks flat");

  // The panel is opaque in its title bar: that strip must not change with the colour map while
  // the field beside it does.
  const QRect panel = view.panelItemRect(FieldPanelItem::Window).toAlignedRect();
  QVERIFY2(panel.width() > 100 && panel.height() > 80, "the Cosmology panel was not drawn");
  const QRect title(panel.left() + 2, panel.top() + 2, panel.width() - 4, 10);
  view.setColormap(ds::Colormap::Magma);
  view.update();
  QSignalSpy frames(&view, &FieldViewport::frameRendered);
  QTRY_VERIFY(frames.count() > 0);
  const QImage magma = Grab(view);
  dstest::save_screenshot(magma, "field_viewport_magma");
  QCOMPARE(magma.copy(title), viridis.copy(title));
  const QRect field_corner(400, 400, 200, 200);
  QVERIFY(magma.copy(field_corner) != viridis.copy(field_corner));
}

void TestFieldViewport::letterboxesNonSquareWidgets() {
  FieldViewport view;
  ShowAndRender(view, WavePattern(), {800, 500});
  const QImage frame = Grab(view);
  dstest::save_screenshot(frame, "field_viewport_letterbox");
  // The square field spans x in [150, 650): the bars on both sides are background only.
  QCOMPARE(dstest::distinct_colours(frame.copy(QRect(0, 300, 140, 200))), 1);
  QCOMPARE(dstest::distinct_colours(frame.copy(QRect(660, 0, 140, 500))), 1);
  QVERIFY(dstest::distinct_colours(frame.copy(QRect(400, 250, 240, 240))) > 50);
}

void TestFieldViewport::colormapsAndScalingsChangeTheImage() {
  FieldViewport view;
  ShowAndRender(view, RampPattern());
  // Cells are 10 px; (5, 5) is row 0 (lowest values), (635, 635) the last row (highest).
  QImage frame = Grab(view);
  QVERIFY2(Near(frame.pixel(5, 5), qRgb(0x44, 0x01, 0x54)),
           qPrintable(Describe(frame.pixel(5, 5))));
  QVERIFY2(Near(frame.pixel(635, 635), qRgb(0xfd, 0xe7, 0x25)),
           qPrintable(Describe(frame.pixel(635, 635))));
  const QImage viridis = frame;

  view.setColormap(ds::Colormap::Grey);
  QTRY_VERIFY((frame = Grab(view)) != viridis);
  dstest::save_screenshot(frame, "field_viewport_grey");
  QVERIFY(Near(frame.pixel(5, 5), qRgb(0, 0, 0)));
  QVERIFY(Near(frame.pixel(635, 635), qRgb(255, 255, 255)));
  for (int y = 320; y < 640; y += 40) {
    const QRgb c = frame.pixel(325, y);
    QVERIFY2(qRed(c) == qGreen(c) && qGreen(c) == qBlue(c), qPrintable(Describe(c)));
    QVERIFY2(qGray(frame.pixel(325, y)) > qGray(frame.pixel(325, y - 40)), "rows not ascending");
  }

  // Log10 of the same values bends the ramp: the middle row gets brighter.
  const QImage linear = frame;
  view.setScaling(ds::FieldScaling::Log);
  QTRY_VERIFY((frame = Grab(view)) != linear);
  dstest::save_screenshot(frame, "field_viewport_grey_log");
  QVERIFY(qGray(frame.pixel(325, 325)) > qGray(linear.pixel(325, 325)) + 20);

  // A contrast field on the diverging map: delta = 0 is drawn white.
  auto contrast = std::make_shared<FieldImage>();
  contrast->n = 64;
  contrast->is_contrast = true;
  for (int k = 0; k < 64 * 64; ++k) contrast->values.push_back(0.6f - float(k) / 4095.0f * 0.9f);
  view.setScaling(ds::FieldScaling::Linear);
  view.setColormap(ds::Colormap::RedBlue);
  view.setImage(contrast);
  QTRY_VERIFY(view.hasRenderedImage());
  frame = Grab(view);
  dstest::save_screenshot(frame, "field_viewport_redblue");
  // delta = 0 at k = 2730, i.e. row 42, column 42.
  QVERIFY2(Near(frame.pixel(425, 425), qRgb(0xf7, 0xf7, 0xf7), 8),
           qPrintable(Describe(frame.pixel(425, 425))));
  QVERIFY(qRed(frame.pixel(5, 5)) > 2 * qBlue(frame.pixel(5, 5)));           // +0.6: red
  QVERIFY(qBlue(frame.pixel(635, 635)) > qRed(frame.pixel(635, 635)) + 40);  // -0.3: light blue
}

void TestFieldViewport::sliderDragEmitsParametersEdited() {
  FieldViewport view;
  ShowAndRender(view, WavePattern());
  QSignalSpy edited(&view, &FieldViewport::parametersEdited);
  const QRectF slider = view.panelItemRect(FieldPanelItem::OmegaMSlider);
  const double y = slider.center().y();
  const QPointF start = slider.center();
  const QPointF end(slider.left() + 0.85 * slider.width(), y);

  // The whole drag arrives before a single frame is drawn; the layer must still replay it.
  SendMouse(view, QEvent::MouseButtonPress, start, Qt::LeftButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseMove, (start + end) / 2, Qt::NoButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseMove, end, Qt::NoButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseButtonRelease, end, Qt::LeftButton, Qt::NoButton);
  QTRY_VERIFY(edited.count() > 0);
  QTRY_VERIFY(edited.last().at(0).value<FieldParameters>().omega_m > 0.4);
  const auto dragged = edited.last().at(0).value<FieldParameters>();
  // The slider spans the prior [0.1, 0.5]; ImGui's grab padding moves the end by a few pixels.
  QVERIFY2(std::abs(dragged.omega_m - (0.1 + 0.4 * 0.85)) < 0.03,
           qPrintable(QString::number(dragged.omega_m)));
  QCOMPARE(dragged.sigma_8, 0.8);
  QCOMPARE(dragged.seed, std::uint64_t(1));
  QVERIFY(view.pan().isNull());  // the drag belonged to ImGui, not to the view

  // A click (press and release in one burst) sets the value where it lands.
  const QPointF click(slider.left() + 0.2 * slider.width(), y);
  SendMouse(view, QEvent::MouseButtonPress, click, Qt::LeftButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseButtonRelease, click, Qt::LeftButton, Qt::NoButton);
  auto last_omega_m = [&] { return edited.last().at(0).value<FieldParameters>().omega_m; };
  QTRY_VERIFY(last_omega_m() < 0.25);
  const auto clicked = edited.last().at(0).value<FieldParameters>();
  QVERIFY2(std::abs(clicked.omega_m - (0.1 + 0.4 * 0.2)) < 0.03,
           qPrintable(QString::number(clicked.omega_m)));
}

void TestFieldViewport::setParametersDoesNotEmit() {
  FieldViewport view;
  ShowAndRender(view, WavePattern());
  QSignalSpy edited(&view, &FieldViewport::parametersEdited);
  QSignalSpy frames(&view, &FieldViewport::frameRendered);
  const FieldParameters wanted{0.2, 0.9, 42};
  view.setParameters(wanted);
  view.setStatusText("64x64 GRF, 12 ms");
  QTRY_VERIFY(frames.count() >= 1);
  QTest::qWait(100);
  QCOMPARE(edited.count(), 0);
  QVERIFY(view.parameters() == wanted);

  QSignalSpy colormaps(&view, &FieldViewport::colormapChanged);
  view.setColormap(ds::Colormap::Magma);
  view.setColormap(ds::Colormap::Magma);
  QCOMPARE(colormaps.count(), 1);  // only real changes are announced
}

void TestFieldViewport::wheelZoomsAboutCursorAndDoubleClickResets() {
  FieldViewport view;
  ShowAndRender(view, WavePattern());
  const QPointF centre(320, 320);
  const QPointF cursor(480, 520);
  // Field coordinates (in units of the field side) of the point under the cursor.
  auto under_cursor = [&] { return (cursor - centre - view.pan()) / view.zoom(); };
  const QPointF before = under_cursor();
  SendWheel(view, cursor, 120);
  QVERIFY(view.zoom() > 1.1);
  const QPointF after = under_cursor();
  QVERIFY2(std::abs(after.x() - before.x()) < 1e-9 && std::abs(after.y() - before.y()) < 1e-9,
           "the point under the cursor moved");
  dstest::save_screenshot(Grab(view), "field_viewport_zoomed");

  // Over the panel the wheel belongs to ImGui.
  const double zoom = view.zoom();
  SendWheel(view, view.panelItemRect(FieldPanelItem::Window).center(), 120);
  QCOMPARE(view.zoom(), zoom);

  // Left-drag on the field pans by the drag.
  const QPointF pan = view.pan();
  SendMouse(view, QEvent::MouseButtonPress, QPointF(400, 400), Qt::LeftButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseMove, QPointF(450, 420), Qt::NoButton, Qt::LeftButton);
  SendMouse(view, QEvent::MouseButtonRelease, QPointF(450, 420), Qt::LeftButton, Qt::NoButton);
  QCOMPARE(view.pan(), pan + QPointF(50, 20));

  SendMouse(view, QEvent::MouseButtonDblClick, QPointF(400, 400), Qt::LeftButton, Qt::LeftButton);
  QCOMPARE(view.zoom(), 1.0);
  QCOMPARE(view.pan(), QPointF());
}

void TestFieldViewport::viewportsKeepSeparateImGuiState() {
  // The main window may show several fields; each viewport owns its ImGui context.
  FieldViewport left, right;
  ShowAndRender(left, WavePattern());
  ShowAndRender(right, RampPattern());
  QSignalSpy left_edits(&left, &FieldViewport::parametersEdited);
  QSignalSpy right_edits(&right, &FieldViewport::parametersEdited);
  const QRectF slider = right.panelItemRect(FieldPanelItem::Sigma8Slider);
  const QPointF click(slider.left() + 0.9 * slider.width(), slider.center().y());
  SendMouse(right, QEvent::MouseButtonPress, click, Qt::LeftButton, Qt::LeftButton);
  SendMouse(right, QEvent::MouseButtonRelease, click, Qt::LeftButton, Qt::NoButton);
  QTRY_VERIFY(right_edits.count() > 0);
  left.update();
  QTest::qWait(100);
  QCOMPARE(left_edits.count(), 0);
  QCOMPARE(left.parameters().sigma_8, 0.8);
  QVERIFY(right.parameters().sigma_8 > 0.9);
}

void TestFieldViewport::survivesANewGlContext() {
  // Moving the widget to another window makes Qt destroy its GL context and call initializeGL
  // again; textures, shaders and the ImGui backend must be rebuilt, not reused.
  QWidget first, second;
  first.resize(640, 640);
  second.resize(640, 640);
  auto* view = new FieldViewport(&first);
  view->resize(640, 640);
  first.show();
  QVERIFY(QTest::qWaitForWindowExposed(&first));
  view->setImage(WavePattern());
  QTRY_VERIFY(view->hasRenderedImage());
  const QImage before = Grab(*view);

  view->setParent(&second);
  view->show();
  second.show();
  QVERIFY(QTest::qWaitForWindowExposed(&second));
  QTRY_VERIFY(view->hasRenderedImage());
  const QImage after = Grab(*view);
  dstest::save_screenshot(after, "field_viewport_reparented");
  QVERIFY(dstest::distinct_colours(after) > 50);
  QCOMPARE(after, before);
}

QTEST_MAIN(TestFieldViewport)
#include "test_field_viewport.moc"
