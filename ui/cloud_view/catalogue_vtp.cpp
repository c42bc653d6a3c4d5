#include "ui/cloud_view/catalogue_vtp.h"

#include <vtkCellArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkIdTypeArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkStringArray.h>
#include <vtkTypeUInt64Array.h>
#include <vtkXMLPolyDataWriter.h>

#include <algorithm>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"
#include "ui/halo_workspace.h"

namespace dsui {
namespace {

void add_field_value(vtkFieldData* field, const char* name, double value) {
  vtkNew<vtkDoubleArray> array;
  array->SetName(name);
  array->InsertNextValue(value);
  field->AddArray(array);
}

}  // namespace

void write_catalogue_vtp(const std::string& path, const HaloSnapshot& snapshot) {
  const std::size_t n = std::size_t(std::max<std::int64_t>(0, snapshot.n_points));
  const std::size_t f = std::size_t(std::max(0, snapshot.features));
  if (!snapshot.cloud || f < 3 || snapshot.cloud->size() != n * f)
    throw ds::FileError(path, "no halo catalogue to write (expected [n_points, >= 3 features])");
  const std::vector<float>& cloud = *snapshot.cloud;
  std::vector<std::string> names;
  if (snapshot.points) names = snapshot.points->feature_names;
  if (names.size() != f) {
    names.clear();
    for (std::size_t j = 0; j < f; ++j) names.push_back("f" + std::to_string(j));
  }

  vtkNew<vtkPolyData> polydata;
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(vtkIdType(n));
  vtkNew<vtkIdTypeArray> ids;
  ids->SetNumberOfValues(vtkIdType(n));
  for (std::size_t i = 0; i < n; ++i) {
    const float* row = cloud.data() + i * f;
    points->SetPoint(vtkIdType(i), row[0], row[1], row[2]);
    ids->SetValue(vtkIdType(i), vtkIdType(i));
  }
  vtkNew<vtkCellArray> verts;
  verts->SetData(1, ids);  // vertices, so ParaView shows the halos without a Glyph filter
  polydata->SetPoints(points);
  polydata->SetVerts(verts);

  vtkPointData* data = polydata->GetPointData();
  int vx = -1, vy = -1, vz = -1;
  for (std::size_t j = 0; j < f; ++j) {
    vtkNew<vtkFloatArray> column;
    column->SetName(names[j].c_str());
    column->SetNumberOfValues(vtkIdType(n));
    for (std::size_t i = 0; i < n; ++i) column->SetValue(vtkIdType(i), cloud[i * f + j]);
    data->AddArray(column);
    if (names[j] == "vx") vx = int(j);
    if (names[j] == "vy") vy = int(j);
    if (names[j] == "vz") vz = int(j);
  }
  if (vx >= 0 && vy >= 0 && vz >= 0) {
    vtkNew<vtkFloatArray> velocity;
    velocity->SetName("velocity");
    velocity->SetNumberOfComponents(3);
    velocity->SetNumberOfTuples(vtkIdType(n));
    for (std::size_t i = 0; i < n; ++i) {
      const float* row = cloud.data() + i * f;
      const float v[3] = {row[vx], row[vy], row[vz]};
      velocity->SetTypedTuple(vtkIdType(i), v);
    }
    data->SetVectors(velocity);
  }
  // ParaView colours by the active scalars on opening, as with diffuscope-cli's .vtp.
  if (data->GetArray("log10_mass")) data->SetActiveScalars("log10_mass");

  vtkFieldData* field = polydata->GetFieldData();
  add_field_value(field, "Omega_m", snapshot.omega_m);
  add_field_value(field, "sigma_8", snapshot.sigma_8);
  add_field_value(field, "box_size", snapshot.box_size);
  add_field_value(field, "steps", snapshot.steps);
  vtkNew<vtkTypeUInt64Array> seed;
  seed->SetName("seed");
  seed->InsertNextValue(snapshot.seed);
  field->AddArray(seed);
  vtkNew<vtkStringArray> model;
  model->SetName("model");
  model->InsertNextValue(snapshot.model_name.toStdString());
  field->AddArray(model);
  vtkNew<vtkStringArray> units;
  units->SetName("units");
  units->InsertNextValue("positions Mpc/h, velocities km/s, masses log10 Msun/h");
  field->AddArray(units);

  ds::write_path_atomically(path, [&](const std::string& temporary) {
    vtkNew<vtkXMLPolyDataWriter> writer;
    writer->SetInputData(polydata);
    writer->SetFileName(temporary.c_str());
    // Raw binary in the appended section (reference/formats.md), not base64 text.
    writer->SetDataModeToAppended();
    writer->EncodeAppendedDataOff();
    writer->SetCompressorTypeToZLib();
    if (writer->Write() != 1 || writer->GetErrorCode() != 0)
      throw ds::FileError(path, "VTK could not write the PolyData file");
  });
}

}  // namespace dsui
