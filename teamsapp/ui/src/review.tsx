// The compliance review page's entry, in the tab's theme.
import { mountPage } from "./page";
import { Review } from "./ReviewPage";

mountPage(<Review />);
