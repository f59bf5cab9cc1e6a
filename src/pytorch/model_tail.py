

def load(path="model.safetensors"):
    """The model with the weights of a Whetstone model file, in evaluation mode, and the file's
    header: the class names under "classes", the fitted feature transform under "features" when
    the run had one, and a text model's vocabulary under "vocabulary"."""
    model = Model()
    model.load_state_dict(load_file(path))
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
    header = {"classes": json.loads(metadata["classes"])}
    for key in ("features", "vocabulary"):
        if key in metadata:
            header[key] = json.loads(metadata[key])
    return model.eval(), header


def save(model, path, header):
    """Writes the model as a Whetstone model file, with the header `load` gave (the class names
    and, when there are, the feature transform and the vocabulary), and a training history (CSV)
    when the header has one under "history"."""
    metadata = {"format": FORMAT, "spec": json.dumps(model.spec), "classes": json.dumps(header["classes"])}
    for key in ("features", "vocabulary"):
        if key in header:
            metadata[key] = json.dumps(header[key])
    if "history" in header:
        metadata["history"] = header["history"]
    tensors = {name: value.detach().contiguous() for name, value in model.state_dict().items()}
    save_file(tensors, path, metadata=metadata)


if __name__ == "__main__":
    model, header = load()
    print(model)
    count = sum(p.numel() for p in model.parameters())
    print(f"{count} parameters; classes {', '.join(header['classes'])}")
