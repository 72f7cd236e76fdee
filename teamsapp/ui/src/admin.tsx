// The admin page's entry, in the tab's theme.
import { Admin } from "./AdminPage";
import { mountPage } from "./page";

mountPage(<Admin />);
