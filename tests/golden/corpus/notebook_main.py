# The golden corpus's notebook-style class: defined in __main__, as in a
# script or a notebook cell. Run as a script by tests/golden/golden.py.
# Never edit: its version id is committed.


class NotebookModel:
    factor = 2

    def predict(self, xs):
        return [x * self.factor for x in xs]


if __name__ == "__main__":
    import sys

    sys.path.insert(0, sys.argv[1])
    import golden

    golden.main_push_notebook(NotebookModel)
