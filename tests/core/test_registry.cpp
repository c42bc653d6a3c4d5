#include <gtest/gtest.h>

#include "diffuscope/registries.h"

TEST(Registry, RoundTripsEveryEntry) {
  for (const auto& e : ds::kColormaps.entries()) {
    EXPECT_EQ(ds::kColormaps.from_string(e.name), e.value);
    EXPECT_STREQ(ds::kColormaps.name(e.value), e.name);
  }
  EXPECT_EQ(ds::kDevices.from_string("cuda"), ds::Device::Cuda);
  EXPECT_EQ(ds::kColormaps.index(ds::Colormap::Grey), 2);
}

TEST(Registry, UnknownNameListsTheChoices) {
  try {
    ds::kColormaps.from_string("jet");
    FAIL() << "expected InvalidArgument";
  } catch (const ds::InvalidArgument& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("'jet'"), std::string::npos) << what;
    EXPECT_NE(what.find("viridis, magma, grey, redblue"), std::string::npos) << what;
  }
}
