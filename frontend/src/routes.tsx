import type { RouteObject } from "react-router-dom";

import { Layout, NotFound } from "./components/Layout";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { MySubmissionsPage } from "./pages/MySubmissionsPage";
import { RoundPage } from "./pages/RoundPage";
import { RoundsPage } from "./pages/RoundsPage";
import { SignInPage, SignUpPage } from "./pages/SignInPage";
import { SubmissionPage } from "./pages/SubmissionPage";
import { SubmitPage } from "./pages/SubmitPage";

const wizard =
  (name: "OrganizePage" | "NewRoundPage" | "RoundSetupPage") => async () => ({
    Component: (await import("./pages/organizer/NewRoundPage"))[name],
  });

export const routes: RouteObject[] = [
  {
    path: "/",
    element: <Layout />,
    children: [
      { index: true, element: <RoundsPage /> },
      { path: "signin", element: <SignInPage /> },
      { path: "signup", element: <SignUpPage /> },
      { path: "keys", element: <ApiKeysPage /> },
      { path: "rounds/:slug", element: <RoundPage /> },
      { path: "rounds/:slug/submit", element: <SubmitPage /> },
      { path: "rounds/:slug/submissions", element: <MySubmissionsPage /> },
      { path: "submissions/:id", element: <SubmissionPage /> },
      // Organizer pages load on demand: participants never download them.
      { path: "organize", lazy: wizard("OrganizePage") },
      { path: "organize/new", lazy: wizard("NewRoundPage") },
      { path: "rounds/:slug/setup", lazy: wizard("RoundSetupPage") },
      { path: "rounds/:slug/admin", lazy: async () => ({ Component: (await import("./pages/organizer/RoundAdminPage")).RoundAdminPage }) },
      { path: "rounds/:slug/populations", lazy: async () => ({ Component: (await import("./pages/organizer/PopulationsPage")).PopulationsPage }) },
      { path: "rounds/:slug/report", lazy: async () => ({ Component: (await import("./pages/organizer/ReportPage")).ReportPage }) },
      { path: "*", element: <NotFound /> },
    ],
  },
];
