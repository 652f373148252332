print("nexusfs")
