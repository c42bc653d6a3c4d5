// A read-only, selectable table cell: what the Inference workspace's tables (diagnostics, batch
// results) show.
#pragma once

#include <QTableWidgetItem>

namespace dsui {

inline QTableWidgetItem* read_only_cell(const QString& text) {
  auto* item = new QTableWidgetItem(text);
  item->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
  return item;
}

}  // namespace dsui
