// ParkGraph's own start-up script for GraphiQL (not from npm): renders GraphiQL with the
// explorer plugin against the endpoint the page names. Served from the binary like the
// rest of the page, so GraphiQL needs no network beyond this server.
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  var endpoint = new URL(root.dataset.endpoint || "/graphql", window.location.origin).toString();
  var defaultQuery = [
    "# Welcome to ParkGraph. Write a query and press Ctrl-Enter (or the ▶ button).",
    "# More examples: the README's \"Example queries\"; the Docs button lists every type.",
    "#",
    "# To call with a token, open \"Headers\" below the editor and write",
    '#   { "Authorization": "Bearer <token>" }',
    "",
    "{",
    "  parks(first: 5) {",
    "    totalCount",
    "    nodes { nameZh nameEn kind }",
    "  }",
    "}",
    "",
  ].join("\n");
  var plugins = [];
  if (window.GraphiQLPluginExplorer) {
    plugins.push(window.GraphiQLPluginExplorer.explorerPlugin());
  }
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher: GraphiQL.createFetcher({
        url: endpoint,
        fetch: function (url, options) {
          return window.fetch(url, Object.assign({}, options, { credentials: "same-origin" }));
        },
      }),
      defaultQuery: defaultQuery,
      defaultEditorToolsVisibility: true,
      plugins: plugins,
    })
  );
})();
