#include "vtp_writer.h"

#include <vtkCellArray.h>
#include <vtkDoubleArray.h>
#include <vtkFieldData.h>
#include <vtkFloatArray.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkXMLPolyDataWriter.h>

#include <algorithm>

#include "diffuscope/data/atomic_file.h"
#include "diffuscope/error.h"

namespace dscli {

void write_point_cloud_vtp(const std::string& path, const ds::Dataset& d, std::size_t index) {
  if (d.kind != ds::SampleKind::Points)
    throw ds::InvalidArgument(path + ": .vtp export needs a point-cloud dataset");
  if (index >= d.count())
    throw ds::InvalidArgument("--index " + std::to_string(index) + " is beyond the " +
                              std::to_string(d.count()) + " samples");
  const std::size_t n = d.shape[1], f = d.shape[2];
  const float* cloud = d.sample(index);
  auto column = [&](const std::string& name) {
    const auto it = std::find(d.feature_names.begin(), d.feature_names.end(), name);
    return it == d.feature_names.end() ? -1 : int(it - d.feature_names.begin());
  };
  vtkNew<vtkPoints> points;
  points->SetDataTypeToFloat();
  points->SetNumberOfPoints(vtkIdType(n));
  vtkNew<vtkCellArray> vertices;
  for (std::size_t i = 0; i < n; ++i) {
    points->SetPoint(vtkIdType(i), cloud[i * f], cloud[i * f + 1], cloud[i * f + 2]);
    const vtkIdType id = vtkIdType(i);
    vertices->InsertNextCell(1, &id);
  }
  vtkNew<vtkPolyData> poly;
  poly->SetPoints(points);
  poly->SetVerts(vertices);
  if (const int vx = column("vx"); vx >= 0) {
    vtkNew<vtkFloatArray> velocity;
    velocity->SetName("velocity");
    velocity->SetNumberOfComponents(3);
    velocity->SetNumberOfTuples(vtkIdType(n));
    for (std::size_t i = 0; i < n; ++i)
      velocity->SetTuple3(vtkIdType(i), cloud[i * f + vx], cloud[i * f + vx + 1],
                          cloud[i * f + vx + 2]);
    poly->GetPointData()->AddArray(velocity);
  }
  if (const int m = column("log10_mass"); m >= 0) {
    vtkNew<vtkFloatArray> mass;
    mass->SetName("log10_mass");
    mass->SetNumberOfTuples(vtkIdType(n));
    for (std::size_t i = 0; i < n; ++i) mass->SetValue(vtkIdType(i), cloud[i * f + m]);
    poly->GetPointData()->AddArray(mass);
    poly->GetPointData()->SetActiveScalars("log10_mass");
  }
  for (std::size_t k = 0; k < d.param_count(); ++k) {
    vtkNew<vtkDoubleArray> value;
    value->SetName(d.param_names[k].c_str());
    value->InsertNextValue(d.param(index, k));
    poly->GetFieldData()->AddArray(value);
  }
  vtkNew<vtkDoubleArray> box;
  box->SetName("box_size");
  box->InsertNextValue(d.box_size);
  poly->GetFieldData()->AddArray(box);

  ds::write_path_atomically(path, [&](const std::string& temporary) {
    vtkNew<vtkXMLPolyDataWriter> writer;
    writer->SetFileName(temporary.c_str());
    writer->SetInputData(poly);
    writer->SetDataModeToAppended();
    writer->SetCompressorTypeToZLib();
    if (writer->Write() != 1) throw ds::FileError(path, "VTK could not write the file");
  });
}

}  // namespace dscli
