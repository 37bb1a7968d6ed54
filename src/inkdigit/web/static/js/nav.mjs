// nav: the account links in a page's header. `renderNav(nav, user, {here})` fills the <nav> element:
// "Sign in" and "Sign up" for a visitor; the account's e-mail and links to History, Dashboard and
// Account for a signed-in user (`here`, a path, is marked as the current page; on a phone the main
// page shows only the `compact` link). `navLinks(user)`
// is the pure part: the links as {href, text}. The DOM is touched only when renderNav runs.

/** The header's links for `user` (null: nobody signed in); `compact` ones are all the main page's
 * header shows on a phone, where the canvas and the answer need the height (the others are a tap
 * further: on the sign-in and account pages). */
export function navLinks(user) {
  if (!user) return [{ href: "/signin", text: "Sign in", compact: true }, { href: "/signup", text: "Sign up" }];
  return [{ href: "/history", text: "History" }, { href: "/dashboard", text: "Dashboard" },
    { href: "/account", text: "Account", compact: true }];
}

export function renderNav(nav, user, { here = "" } = {}) {
  if (!nav) return;
  const doc = nav.ownerDocument;
  const list = doc.createElement("ul");
  if (user) {
    const who = doc.createElement("li");
    who.className = "who";
    who.dataset.testid = "signed-in-as";
    who.textContent = user.email;
    who.title = `Signed in as ${user.email}`;
    list.append(who);
  }
  for (const { href, text, compact } of navLinks(user)) {
    const item = doc.createElement("li");
    if (compact) item.dataset.compact = "";
    const link = doc.createElement("a");
    link.href = href;
    link.textContent = text;
    if (href === here) link.setAttribute("aria-current", "page");
    if (user && href === "/account") link.title = `Signed in as ${user.email}`; // the address, where it is not shown
    item.append(link);
    list.append(item);
  }
  nav.replaceChildren(list);
  nav.dataset.state = user ? "signed-in" : "anonymous";
}
