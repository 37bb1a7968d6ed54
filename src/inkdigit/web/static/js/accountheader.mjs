// accountheader: the main page's header account links, and whether someone is signed in.
// `createAccountHeader({nav, body, here, current, render})` returns `{show(), signedIn, user}`: `show()`
// asks who is signed in (`current`, session's `currentUser` by default: GET /users/me), renders
// the account's links or "Sign in" / "Sign up" into `nav` (nav's `renderNav` by default) and marks
// `body` (`data-account`: "signed-in" or "anonymous"); `signedIn` is what the last answer said.
// Touches the DOM only through `render` and `body`, and only when `show()` is called.

import { renderNav } from "./nav.mjs";
import { currentUser } from "./session.mjs";

export function createAccountHeader({ nav, body, here = "/", current = currentUser, render = renderNav }) {
  let user = null; // what GET /users/me answered
  return {
    async show() {
      user = await current();
      render(nav, user, { here });
      body.dataset.account = user ? "signed-in" : "anonymous";
    },
    get signedIn() { return Boolean(user); },
    /** The signed-in user (GET /users/me's body), or null. */
    get user() { return user; },
  };
}
