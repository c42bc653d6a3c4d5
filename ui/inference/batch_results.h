// The results of a batch run (`diffuscope-cli batch merge`'s file) as a window: what was run and
// what is missing, the calibration summary per parameter (68% / 95% coverage with its standard
// error next to the nominal one, the mean and sd of z = (mean - truth) / sd), the calibration plot
// (posterior mean against truth with 68% intervals, one panel per parameter, the diagonal drawn),
// and the table of per-field posteriors. Everything shown comes from ds::read_batch_merge.
#pragma once

#include <QWidget>
#include <memory>

#include "diffuscope/batch/batch_merge.h"

class QCustomPlot;
class QLabel;
class QTableWidget;

namespace dsui {

class BatchResultsView : public QWidget {
  Q_OBJECT
 public:
  explicit BatchResultsView(std::shared_ptr<const ds::BatchMergeFile> results,
                            QWidget* parent = nullptr);

  const ds::BatchMergeFile& results() const { return *results_; }
  QLabel* header() const { return header_; }
  QTableWidget* summaryTable() const { return summary_; }
  QTableWidget* fieldTable() const { return fields_; }
  QCustomPlot* plot() const { return plot_; }

 private:
  void fillSummary();
  void fillFields();
  void fillPlot();

  std::shared_ptr<const ds::BatchMergeFile> results_;
  QLabel* header_;
  QTableWidget* summary_;
  QTableWidget* fields_;
  QCustomPlot* plot_;
};

}  // namespace dsui
