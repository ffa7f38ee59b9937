import type { RouteObject } from "react-router-dom";

import { Layout, NotFound } from "./components/Layout";
import { ApiKeysPage } from "./pages/ApiKeysPage";
import { MySubmissionsPage } from "./pages/MySubmissionsPage";
import { NewRoundPage, OrganizePage, RoundSetupPage } from "./pages/organizer/NewRoundPage";
import { ReportPage } from "./pages/organizer/ReportPage";
import { RoundAdminPage } from "./pages/organizer/RoundAdminPage";
import { RoundPage } from "./pages/RoundPage";
import { RoundsPage } from "./pages/RoundsPage";
import { SignInPage, SignUpPage } from "./pages/SignInPage";
import { SubmissionPage } from "./pages/SubmissionPage";
import { SubmitPage } from "./pages/SubmitPage";

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
      { path: "organize", element: <OrganizePage /> },
      { path: "organize/new", element: <NewRoundPage /> },
      { path: "rounds/:slug/setup", element: <RoundSetupPage /> },
      { path: "rounds/:slug/admin", element: <RoundAdminPage /> },
      { path: "rounds/:slug/report", element: <ReportPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
